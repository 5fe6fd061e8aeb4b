/** The three roles every installation has, as PSU names them. They cannot be changed or deleted. */
export const BuiltinRole = {
  Administrator: 'Administrator',
  Operator: 'Operator',
  Reader: 'Reader',
} as const;
export type BuiltinRole = (typeof BuiltinRole)[keyof typeof BuiltinRole];

export const BUILTIN_ROLES: readonly BuiltinRole[] = [BuiltinRole.Administrator, BuiltinRole.Operator, BuiltinRole.Reader];

export function isBuiltinRoleName(name: string): name is BuiltinRole {
  return (BUILTIN_ROLES as readonly string[]).includes(name);
}
