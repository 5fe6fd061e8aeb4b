import { BUILTIN_ROLES } from './builtin-roles.js';

const BUILTIN_ORDER: readonly string[] = BUILTIN_ROLES;

/** Built-ins first in their fixed order, then custom roles by name. */
export function sortRoleNames(names: readonly string[]): string[] {
  return [...names].sort((a, b) => {
    const ia = BUILTIN_ORDER.indexOf(a);
    const ib = BUILTIN_ORDER.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a.localeCompare(b);
  });
}
