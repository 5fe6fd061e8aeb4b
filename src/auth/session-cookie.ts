import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';
import type { CookieSecureMode } from '../config/app-config.js';

export const SESSION_COOKIE = 'apptoken_session';

/** HttpOnly, SameSite=Strict, path /; Secure per COOKIE_SECURE (auto: when the request came over HTTPS). */
export function sessionCookieOptions(request: FastifyRequest, mode: CookieSecureMode): CookieSerializeOptions {
  const secure = mode === 'always' || (mode === 'auto' && request.protocol === 'https');
  return { httpOnly: true, sameSite: 'strict', path: '/', secure };
}
