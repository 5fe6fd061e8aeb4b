import { BadRequestException, HttpStatus } from '@nestjs/common';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { isAdministrator, type Principal } from '../auth/principal.js';
import { NEVER, type Expiration } from '../common/flexible-date.js';
import { roleNameKey } from '../role/role-name.js';

/** Who may do what with tokens, and for how long: pure functions of their inputs. */

export const DAY_MS = 86_400_000;

export interface LifetimePolicy {
  /** A grant that names no lifetime gets this many days. */
  defaultDays: number;
  /** APP_TOKEN_MAX_LIFETIME_DAYS; undefined: "never" is allowed. */
  maxDays?: number;
}

/** The configured policy: the default lifetime is capped to the maximum, when there is one. */
export function lifetimePolicy(config: { appTokenDefaultLifetimeDays: number; appTokenMaxLifetimeDays?: number }): LifetimePolicy {
  const maxDays = config.appTokenMaxLifetimeDays;
  return { defaultDays: maxDays === undefined ? config.appTokenDefaultLifetimeDays : Math.min(maxDays, config.appTokenDefaultLifetimeDays), maxDays };
}

/** Why an expiry breaks APP_TOKEN_MAX_LIFETIME_DAYS, or undefined when it does not. */
export function lifetimeProblem(expiresAt: Date | null, now: number, policy: LifetimePolicy): string | undefined {
  const max = policy.maxDays;
  if (max === undefined) return undefined;
  if (expiresAt === null) return `tokens must expire: the maximum lifetime is ${max} days (APP_TOKEN_MAX_LIFETIME_DAYS)`;
  // A minute of slack for clock steps between computing and checking.
  if (expiresAt.getTime() - now > max * DAY_MS + 60_000) return `the lifetime exceeds the maximum of ${max} days (APP_TOKEN_MAX_LIFETIME_DAYS)`;
  return undefined;
}

/** The expiry a grant asks for (or the default), in whole seconds as the JWT holds it; 400 when it breaks the policy. */
export function requestedExpiry(request: { lifespanDays?: number; expiration?: Expiration }, now: number, policy: LifetimePolicy): Date | null {
  if (request.lifespanDays !== undefined && request.expiration !== undefined) {
    throw new BadRequestException('give lifespanDays (or lifetimeInDays) or expiration, not both');
  }
  let expiresAt: Date | null;
  if (request.expiration === NEVER) expiresAt = null;
  else if (request.expiration instanceof Date) {
    if (request.expiration.getTime() <= now) throw new BadRequestException('expiration must be in the future');
    expiresAt = request.expiration;
  } else {
    expiresAt = new Date(now + (request.lifespanDays ?? policy.defaultDays) * DAY_MS);
  }
  // JWT times are whole seconds: store exactly what the token says.
  if (expiresAt !== null) expiresAt = new Date(Math.floor(expiresAt.getTime() / 1000) * 1000);
  const problem = lifetimeProblem(expiresAt, now, policy);
  if (problem) throw new BadRequestException(problem);
  return expiresAt;
}

/** A rotated token's expiry: the old one's lifetime, from now. */
export function rotatedExpiry(old: { createdAt: Date; expiresAt: Date | null }, now: number): Date | null {
  return old.expiresAt === null ? null : new Date(now + (old.expiresAt.getTime() - old.createdAt.getTime()));
}

/** When a token stops working at the latest: its expiry or its (possibly future) revocation; null: never. */
export function tokenEnd(token: { expiresAt: Date | null; revokedAt: Date | null }): Date | null {
  const ends = [token.expiresAt, token.revokedAt].filter((end): end is Date => end !== null);
  return ends.length === 0 ? null : new Date(Math.min(...ends.map((end) => end.getTime())));
}

/**
 * The expiry of a token granted with another token (its parent), which it may not outlive. A lifetime the
 * caller asked for (`explicit`) that would outlive the parent is refused, so nobody gets less than they
 * asked for without being told; the default lifetime is capped to the parent's end.
 */
export function childExpiry(requested: Date | null, explicit: boolean, parentEnd: Date | null): { expiresAt: Date | null } | { problem: string } {
  if (parentEnd === null) return { expiresAt: requested };
  if (requested !== null && requested <= parentEnd) return { expiresAt: requested };
  if (explicit) {
    return { problem: `a token granted with an app token cannot outlive it: this one ends ${parentEnd.toISOString()}; ask for that or less, or sign in` };
  }
  return { expiresAt: parentEnd };
}

interface NamedRole {
  id: number;
  name: string;
  nameKey: string;
}

/**
 * The roles for a new token: those asked for, or by default all the identity holds. Every role must be held
 * by the identity; a caller granting itself, and any caller authenticated by a token, can never put in a
 * role it does not hold in this request (a token grants none of the roles it lacks, whoever the grant is
 * for). Only Administrators reach here for other identities. A `provisioning` grant (an Administrator's
 * `system: true` grant to a service identity, whose token is not a child of the caller's) is bounded by the
 * identity's roles only.
 */
export function grantableRoles<R extends NamedRole>(
  actor: Principal,
  identity: { id: number; name: string; roles: readonly R[] },
  requested: readonly string[] | undefined,
  options: { provisioning?: boolean } = {},
): R[] {
  const self = identity.id === actor.identityId;
  const limited = !options.provisioning && (self || actor.via === 'token');
  const held = limited ? identity.roles.filter((role) => actor.roles.includes(role.name)) : [...identity.roles];
  if (requested === undefined) {
    if (identity.roles.length === 0) throw new BadRequestException(`identity "${identity.name}" holds no role; assign one before granting a token`);
    if (held.length === 0) throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, `You hold none of identity "${identity.name}"'s roles in this request`);
    return held;
  }
  if (requested.length === 0) throw new BadRequestException('a token needs at least one role');
  const roles: R[] = [];
  for (const name of requested) {
    const role = identity.roles.find((r) => r.nameKey === roleNameKey(name));
    if (!role) {
      throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, self ? `You do not hold role "${name.slice(0, 64)}"` : `Identity "${identity.name}" does not hold role "${name.slice(0, 64)}"`);
    }
    if (limited && !actor.roles.includes(role.name)) throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, `You do not hold role "${role.name}" in this request`);
    if (!roles.includes(role)) roles.push(role);
  }
  return roles;
}

/**
 * The first of `roles` the caller does not hold in this request (rotation may not add one). An Administrator
 * session is exempt; an Administrator token is not: a rotation made with a token is a grant by it, and a
 * token grants none of the roles it lacks.
 */
export function roleNotHeld(actor: Principal, roles: readonly string[]): string | undefined {
  if (actor.via !== 'token' && isAdministrator(actor)) return undefined;
  return roles.find((role) => !actor.roles.includes(role));
}

/**
 * Whether the caller may revoke, rotate or delete a token it can see (its own, or any as an Administrator).
 * A caller authenticated by an app token must hold every role of the target, or be the target itself:
 * otherwise the owner's weak Reader token could revoke or delete the owner's Administrator token. An
 * Administrator token is exempt (it may give itself any role anyway), and so is a session, which carries
 * all of its identity's roles. Returns the first role the caller lacks, or undefined when it may act.
 */
export function roleTheCallerLacks(actor: Principal, target: { id: number; roles: readonly string[] }): string | undefined {
  if (actor.via !== 'token' || actor.tokenId === target.id || isAdministrator(actor)) return undefined;
  return target.roles.find((role) => !actor.roles.includes(role));
}

/**
 * Whether the caller may see a stored token value (enhanced security off): an Administrator, or a caller
 * whose roles in this request include all of the token's; otherwise a token with fewer roles could read
 * its owner's stronger tokens.
 */
export function mayReadStoredValue(actor: Principal, tokenRoles: readonly string[]): boolean {
  return isAdministrator(actor) || tokenRoles.every((role) => actor.roles.includes(role));
}
