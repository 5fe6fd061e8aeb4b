import { isAdministrator, type Principal } from '../auth/principal.js';

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
