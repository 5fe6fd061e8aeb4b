import { joinRoles } from '../common/role-list.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import type { IdentityFacts, Principal } from '../auth/principal.js';
import type { IdentityDto, MyIdentityDto } from './dto/identity.dto.js';
import type { IdentityEntity } from './identity.entity.js';

/** The public view of an identity: never the password hash. */
export function toIdentityDto(identity: IdentityEntity): IdentityDto {
  const roles = sortRoleNames((identity.roles ?? []).map((role) => role.name));
  return {
    id: identity.id,
    name: identity.name,
    source: identity.source,
    role: joinRoles(roles),
    roles,
    disabled: identity.disabled,
    hasPassword: identity.passwordHash !== null,
    created: identity.createdAt.toISOString(),
    updated: identity.updatedAt.toISOString(),
  };
}

/**
 * The caller as authentication read it (the same snapshot that let the request in): no second read.
 * Its roles are those in effect (for a token: its roles the identity still holds); an authenticated
 * identity is never disabled.
 */
export function toMyIdentityDto(principal: Principal, facts: IdentityFacts): MyIdentityDto {
  const roles = sortRoleNames(principal.roles);
  return {
    id: principal.identityId,
    name: principal.name,
    source: principal.source,
    role: joinRoles(roles),
    roles,
    disabled: false,
    hasPassword: facts.hasPassword,
    created: facts.createdAt.toISOString(),
    updated: facts.updatedAt.toISOString(),
    authenticatedBy: principal.via,
    tokenId: principal.tokenId ?? null,
  };
}
