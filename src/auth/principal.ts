import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BuiltinRole } from '../role/builtin-roles.js';
import { clientAddress } from './client-address.js';

export type IdentitySource = 'local' | 'service' | 'migrated';

/** Who is calling, as established by the AccessGuard for one request. */
export interface Principal {
  identityId: number;
  name: string;
  source: IdentitySource;
  /** Effective roles: for a token, its roles that the identity still holds now. */
  roles: readonly string[];
  via: 'session' | 'token';
  /** Set when `via` is 'session'. */
  sessionId?: string;
  /** Set when `via` is 'token'. */
  tokenId?: number;
  /** The rest of the identity as authentication read it, so a route about the caller (identity/my) does not read it again. */
  identity?: IdentityFacts;
}

/** What authentication reads of an identity besides its name, source and roles. */
export interface IdentityFacts {
  hasPassword: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function isAdministrator(principal: Principal): boolean {
  return principal.roles.includes(BuiltinRole.Administrator);
}

export function holdsAny(principal: Principal, roles: readonly string[]): boolean {
  return roles.some((role) => principal.roles.includes(role));
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The authenticated caller; only on routes declared with `@Authenticated`. */
export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  if (!request.principal) throw new Error('@Auth() used on a route without @Authenticated()');
  return request.principal;
});

/** The client address as fastify resolved it (honouring TRUST_PROXY); the peer's when that is not an IP address. */
export const ClientAddress = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  return clientAddress(request.ip, request.socket.remoteAddress);
});
