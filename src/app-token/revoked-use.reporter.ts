import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { BoundedCache } from '../common/bounded-cache.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import { revokedUseEventData, type TokenUse } from '../webhook/webhook-events.js';
import { AppTokenRepository } from './app-token.repository.js';
import type { TokenClaims } from './token-codec.js';

/** At most one event per token and minute (the database decides across instances; this instance asks once a minute). */
const THROTTLE_MS = 60_000;
const MAX_REMEMBERED = 10_000;
/** Claims in flight at once: a flood of distinct refused tokens cannot queue work without bound. */
const MAX_IN_FLIGHT = 4;

/**
 * `apptoken.revoked_used`: a token with a valid signature was refused because it is revoked, or because its
 * record is gone (deleted here: its tombstone remembers it). Called only on those refusals, never for a valid
 * token, and it returns at once: the claim (one UPDATE ... RETURNING on the token or its tombstone, allowed
 * once a minute per token by the database, so across instances) and the event it emits run in their own unit
 * of work, off the request path. In front of it, a per-instance memory of the tokens asked about in the last
 * minute, so a flood of one revoked token costs no database write per request.
 *
 * A deleted token's identity name and roles are its claims' (what it was granted with): its record is gone, and
 * in an identity's cascade so is the identity. A token never stored here (signed with our key, not migrated)
 * has no tombstone and emits nothing.
 */
@Injectable()
export class RevokedUseReporter implements OnApplicationShutdown {
  private readonly logger = new Logger(RevokedUseReporter.name);
  private readonly recent = new BoundedCache<string, true>(MAX_REMEMBERED, THROTTLE_MS);
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly work: UnitOfWork,
    private readonly tokens: AppTokenRepository,
  ) {}

  /** Notes a refused use; returns at once. `state`: the record says revoked, or there is no record. */
  report(claims: TokenClaims, state: 'revoked' | 'missing', use: Omit<TokenUse, 'at'>): void {
    if (this.recent.get(claims.hash) !== undefined) return;
    // Too busy: dropped without being remembered, so the token's next presentation tries again.
    if (this.inFlight.size >= MAX_IN_FLIGHT) return;
    this.recent.set(claims.hash, true);
    const job: Promise<void> = this.claim(claims, state, { ...use, at: new Date() })
      .catch((error: unknown) => {
        // Forgotten, so the next presentation retries; the reason is logged, never the token.
        this.recent.delete(claims.hash);
        this.logger.warn(`could not record the use of a revoked or deleted token: ${(error as Error).message}`);
      })
      .finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
  }

  /** Resolves when the claims begun so far have committed (or failed): at shutdown, and for tests. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  onApplicationShutdown(): Promise<void> {
    return this.settled();
  }

  private async claim(claims: TokenClaims, state: 'revoked' | 'missing', use: TokenUse): Promise<void> {
    await this.work.run(async (tx) => {
      if (state === 'revoked') {
        const token = await this.tokens.claimRevokedUse(tx.manager, claims.hash);
        if (token) tx.emit({ type: 'apptoken.revoked_used', data: revokedUseEventData(token, use, undefined) });
        return;
      }
      const gone = await this.tokens.claimDeletedUse(tx.manager, claims.hash);
      if (!gone) return;
      const token = {
        id: gone.id,
        identity: { id: gone.identityId, name: claims.name },
        roles: sortRoleNames(claims.roles),
        createdAt: gone.createdAt ?? new Date(claims.nbf * 1000),
        expiresAt: gone.expiresAt,
        revokedAt: gone.revokedAt,
      };
      tx.emit({ type: 'apptoken.revoked_used', data: revokedUseEventData(token, use, { deletedAt: gone.deletedAt }) });
    });
  }
}
