import { joinRoles } from '../common/role-list.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import type { IdentityDto } from './dto/identity.dto.js';
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
