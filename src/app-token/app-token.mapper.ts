import { joinRoles } from '../common/role-list.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import type { AppTokenEntity } from './app-token.entity.js';
import type { AppTokenDto } from './dto/app-token.dto.js';

/** A token as PSU shows it; `value` only in the response that creates it (or as policy allows). */
export function toAppTokenDto(token: AppTokenEntity, value: string | null, now = Date.now()): AppTokenDto {
  const roles = sortRoleNames(token.roles.map((role) => role.name));
  const identityRoles = sortRoleNames((token.identity.roles ?? []).map((role) => role.name));
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
  };
}
