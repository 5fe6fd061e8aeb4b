import { joinRoles } from '../common/role-list.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import type { AppTokenEntity } from './app-token.entity.js';
import type { TokenEventSubject } from '../webhook/webhook-events.js';
import type { AppTokenDto } from './dto/app-token.dto.js';

/** What a token's answer shows of it: read as one row for lists, or taken from a token just written. */
export interface TokenView {
  id: number;
  /** The stored value (enhanced security off), shown only as policy allows. */
  token: string | null;
  identity: { id: number; name: string; source: string; roles: readonly string[] };
  roles: readonly string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  description: string;
  lastUsedAt: Date | null;
  lastUsedAddress: string | null;
}

export function tokenViewOf(token: AppTokenEntity): TokenView {
  return {
    id: token.id,
    token: token.token,
    identity: { id: token.identity.id, name: token.identity.name, source: token.identity.source, roles: (token.identity.roles ?? []).map((role) => role.name) },
    roles: token.roles.map((role) => role.name),
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    revokedAt: token.revokedAt,
    description: token.description,
    lastUsedAt: token.lastUsedAt,
    lastUsedAddress: token.lastUsedAddress,
  };
}

/** A token as PSU shows it; `value` only in the response that creates it (or as policy allows). */
export function toAppTokenDto(token: AppTokenEntity, value: string | null, now = Date.now()): AppTokenDto {
  return appTokenDtoOf(tokenViewOf(token), value, now);
}

export function appTokenDtoOf(token: TokenView, value: string | null, now = Date.now()): AppTokenDto {
  const roles = sortRoleNames(token.roles);
  const identityRoles = sortRoleNames(token.identity.roles);
  return {
    id: token.id,
    token: value,
    identity: { id: token.identity.id, name: token.identity.name, source: token.identity.source, role: joinRoles(identityRoles) },
    revoked: token.revokedAt !== null && token.revokedAt.getTime() <= now,
    role: joinRoles(roles),
    roles,
    created: token.createdAt.toISOString(),
    expiration: token.expiresAt?.toISOString() ?? null,
    revokedDate: token.revokedAt?.toISOString() ?? null,
    description: token.description,
    lastUsed: token.lastUsedAt?.toISOString() ?? null,
    lastUsedAddress: token.lastUsedAddress ?? null,
  };
}

/** The subject of a token's webhook events: what a view shows, never the stored value (`token`). */
export function tokenSubjectOf(token: TokenView): TokenEventSubject {
  return {
    id: token.id,
    identity: { id: token.identity.id, name: token.identity.name },
    roles: sortRoleNames(token.roles),
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    revokedAt: token.revokedAt,
    description: token.description,
  };
}
