import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';
import type { CookieSecureMode } from '../config/app-config.js';

export const SESSION_COOKIE = 'apptoken_session';
/**
 * Over HTTPS the cookie carries the __Host- prefix: browsers then accept it only from this host, Secure,
 * on path / and with no Domain, so a sibling subdomain cannot plant a session cookie of its own.
 */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;

export interface SessionCookie {
  name: string;
  options: CookieSerializeOptions;
}

/** HttpOnly, SameSite=Strict, path /; Secure (and __Host-) per COOKIE_SECURE (auto: when the request came over HTTPS). */
export function sessionCookie(request: FastifyRequest, mode: CookieSecureMode): SessionCookie {
  const secure = mode === 'always' || (mode === 'auto' && request.protocol === 'https');
  return { name: secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, options: { httpOnly: true, sameSite: 'strict', path: '/', secure } };
}

/**
 * The session cookie's value, if the request sends one. The Cookie header is parsed here, on the routes
 * that read it: @fastify/cookie is registered without its hook, which parsed it on every request.
 */
export function sessionSecret(request: FastifyRequest, mode: CookieSecureMode): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  const cookies = (request.cookies as FastifyRequest['cookies'] | null) ?? (request.cookies = request.server.parseCookie(header));
  return cookies[sessionCookie(request, mode).name];
}
