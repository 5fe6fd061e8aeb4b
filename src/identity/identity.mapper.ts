import { joinRoles } from '../common/role-list.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import type { IdentityFacts, IdentitySource, Principal } from '../auth/principal.js';
import type { IdentityDto, MyIdentityDto } from './dto/identity.dto.js';
import type { IdentityEntity } from './identity.entity.js';

/** What an identity's answer shows of it (read as one row for lists): never the password hash, only whether there is one. */
export interface IdentityView {
  id: number;
  name: string;
  source: IdentitySource;
  roles: readonly string[];
  disabled: boolean;
  hasPassword: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** The public view of an identity: never the password hash. */
export function toIdentityDto(identity: IdentityEntity): IdentityDto {
  return identityDtoOf({
    id: identity.id,
    name: identity.name,
    source: identity.source,
    roles: (identity.roles ?? []).map((role) => role.name),
    disabled: identity.disabled,
    hasPassword: identity.passwordHash !== null,
    createdAt: identity.createdAt,
    updatedAt: identity.updatedAt,
  });
}

export function identityDtoOf(identity: IdentityView): IdentityDto {
  const roles = sortRoleNames(identity.roles);
  return {
    id: identity.id,
    name: identity.name,
    source: identity.source,
    role: joinRoles(roles),
    roles,
    disabled: identity.disabled,
    hasPassword: identity.hasPassword,
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
