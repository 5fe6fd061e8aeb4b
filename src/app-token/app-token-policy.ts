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
