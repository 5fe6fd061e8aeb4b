import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength } from 'class-validator';

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

/** A list of role names in a request: an array, one name, or a comma-joined string; at most 64 names. */
export function RoleNames(options: { optional: boolean } = { optional: true }): PropertyDecorator {
  const decorators = [RoleList(), IsArray(), ArrayMaxSize(64), IsString({ each: true }), MaxLength(64, { each: true })];
  return applyDecorators(...(options.optional ? [IsOptional(), ...decorators] : decorators));
}

/** PSU's display form of a role set. */
export function joinRoles(roles: readonly string[]): string {
  return roles.join(', ');
}
