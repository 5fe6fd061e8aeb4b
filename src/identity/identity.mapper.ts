import { joinRoles } from '../common/role-list.js';
import type { IdentityDto } from './dto/identity.dto.js';
import type { IdentityEntity } from './identity.entity.js';

/** Built-ins first in their fixed order, then custom roles by name. */
export function sortRoleNames(names: readonly string[]): string[] {
  const order = ['Administrator', 'Operator', 'Reader'];
  return [...names].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a.localeCompare(b);
  });
}

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
