import { Transform } from 'class-transformer';

/**
 * Roles arrive as an array, a single string, or PSU's comma-joined string ("Administrator, Operator").
 * Anything else is left alone for the validators to refuse.
 */
export function parseRoleList(value: unknown): unknown {
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((role) => role.trim())
      .filter((role) => role !== '');
  }
  if (Array.isArray(value)) {
    return value.flatMap((item) => (typeof item === 'string' ? (parseRoleList(item) as string[]) : [item]));
  }
  return value;
}

/** Property decorator applying {@link parseRoleList}. */
export const RoleList = (): PropertyDecorator => Transform(({ value }) => parseRoleList(value));

/** PSU's display form of a role set. */
export function joinRoles(roles: readonly string[]): string {
  return roles.join(', ');
}
