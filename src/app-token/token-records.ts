import { Injectable } from '@nestjs/common';
import { BoundedCache } from '../common/bounded-cache.js';
import type { IdentityFacts, IdentitySource } from '../auth/principal.js';
import { InvalidationService } from '../database/invalidation.service.js';
import { SqlPool, type Statement } from '../database/sql-pool.js';
import { MetricsService } from '../metrics/metrics.service.js';

/** What authentication needs of a token record. */
export interface TokenRecord {
  id: number;
  /** Its own 32 bytes (see loadToken). */
  tokenSha256: Uint8Array;
  identityId: number;
  /** Epoch ms; null: never. */
  expiresAt: number | null;
  /** Epoch ms, possibly in the future (rotation grace); null: not revoked. */
  revokedAt: number | null;
  roleIds: readonly number[];
  /** The hash of the token this one was granted with (its parent), whose authority bounds it; null: none. */
  parentHash: string | null;
}

/** What authentication needs of an identity. */
export interface IdentityRecord {
  id: number;
  name: string;
  source: IdentitySource;
  disabled: boolean;
  /** role id → name */
  roles: ReadonlyMap<number, string>;
  /** For the principal: what identity/my answers besides the above. */
  facts: IdentityFacts;
}

interface InFlight<V> {
  epoch: number;
  promise: Promise<V>;
}

/**
 * A token record by its hash claim: one indexed row, its role ids and its parent's hash read by subqueries (no
 * GROUP BY), times as numbers (ms) rather than dates to parse.
 */
const LOAD_TOKEN: Statement = {
  name: 'apptoken_load_token',
  text: `SELECT t.id, t.token_sha256, t.identity_id,
                floor(extract(epoch FROM t.expires_at) * 1000)::float8 AS expires_ms,
                (extract(epoch FROM t.revoked_at - clock_timestamp()) * 1000)::float8 AS revoked_in_ms,
                ARRAY(SELECT tr.role_id FROM app_token_role tr WHERE tr.app_token_id = t.id) AS role_ids,
                (SELECT p.hash FROM app_token p WHERE p.id = t.parent_token_id) AS parent_hash
           FROM app_token t
          WHERE t.hash = $1`,
};

/** An identity with its roles (id and name). */
const LOAD_IDENTITY: Statement = {
  name: 'apptoken_load_identity',
  text: `SELECT i.id, i.name, i.source, i.disabled, i.password_hash IS NOT NULL AS has_password, i.created_at, i.updated_at,
                coalesce((SELECT json_agg(json_build_object('id', r.id, 'name', r.name))
                            FROM identity_role ir JOIN role r ON r.id = ir.role_id WHERE ir.identity_id = i.id), '[]') AS roles
           FROM identity i
          WHERE i.id = $1`,
};

const MAX_ENTRIES = 20_000;
/** A backstop only: NOTIFY is what keeps entries current. */
const TTL_MS = 5 * 60_000;

/**
 * Token and identity records for authentication, cached in bounded in-process maps so a valid token
 * costs no database round trip. Entries are dropped when InvalidationService reports a change (from
 * this instance or, through NOTIFY, any other), and caching is off while that channel is down.
 */
@Injectable()
export class TokenRecords {
  private readonly tokens = new BoundedCache<string, TokenRecord | null>(MAX_ENTRIES, TTL_MS);
  private readonly identities = new BoundedCache<number, IdentityRecord | null>(MAX_ENTRIES, TTL_MS);
  /** Loads in flight, each with the invalidation epoch it started in: concurrent misses for one key share one. */
  private readonly tokenLoads = new Map<string, InFlight<TokenRecord | null>>();
  private readonly identityLoads = new Map<number, InFlight<IdentityRecord | null>>();

  constructor(
    private readonly sql: SqlPool,
    private readonly invalidation: InvalidationService,
    private readonly metrics: MetricsService,
  ) {
    invalidation.subscribe((event) => {
      if (event.kind === 'token') this.tokens.delete(event.hash);
      else if (event.kind === 'identity') this.identities.delete(event.id);
      else {
        this.tokens.clear();
        this.identities.clear();
      }
    });
  }

  token(hash: string): Promise<TokenRecord | null> {
    return this.cached(this.tokens, this.tokenLoads, hash, () => this.loadToken(hash), true);
  }

  identity(id: number): Promise<IdentityRecord | null> {
    return this.cached(this.identities, this.identityLoads, id, () => this.loadIdentity(id));
  }

  private cached<K, V>(cache: BoundedCache<K, V | null>, loads: Map<K, InFlight<V | null>>, key: K, load: () => Promise<V | null>, counted = false): Promise<V | null> {
    const cacheable = this.invalidation.cacheable;
    const hit = cacheable ? cache.get(key) : undefined;
    // apptoken_token_cache_*: token lookups only (identities ride along with them).
    if (counted) this.metrics.tokenCacheLookup(hit !== undefined);
    if (hit !== undefined) return Promise.resolve(hit);
    // Without the listener every request reads for itself: a load begun before it may miss another
    // instance's change. With it, a load begun in this epoch has seen every change announced before this
    // request; one begun before an invalidation has not, and is not joined (nor is its answer kept).
    if (!cacheable) return load();
    const epoch = this.invalidation.epoch;
    const running = loads.get(key);
    if (running !== undefined && running.epoch === epoch) return running.promise;
    const promise = load().then(
      (value) => {
        if (loads.get(key)?.promise === promise) loads.delete(key);
        // A change announced while loading may not be reflected in what was read: do not keep it.
        if (this.invalidation.cacheable && this.invalidation.epoch === epoch) cache.set(key, value);
        return value;
      },
      (error: unknown) => {
        if (loads.get(key)?.promise === promise) loads.delete(key);
        throw error;
      },
    );
    loads.set(key, { epoch, promise });
    return promise;
  }

  private async loadToken(hash: string): Promise<TokenRecord | null> {
    const rows = await this.sql.rows<{
      id: number;
      token_sha256: Buffer;
      identity_id: number;
      expires_ms: number | null;
      revoked_in_ms: number | null;
      role_ids: number[];
      parent_hash: string | null;
    }>(LOAD_TOKEN, [hash]);
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      // A copy with its own memory: pg's Buffer is a 32-byte slice of an 8 KiB pool slab, which a cache entry kept
      // alive whole (20,000 cached tokens held about 160 MB).
      tokenSha256: new Uint8Array(row.token_sha256),
      identityId: row.identity_id,
      expiresAt: row.expires_ms,
      // Measured on the database's clock, where revocations are written, and kept on this instance's:
      // an instance whose clock runs behind still refuses a token from the moment it is revoked.
      revokedAt: row.revoked_in_ms === null ? null : Date.now() + Number(row.revoked_in_ms),
      roleIds: row.role_ids,
      parentHash: row.parent_hash,
    };
  }

  private async loadIdentity(id: number): Promise<IdentityRecord | null> {
    const rows = await this.sql.rows<{
      id: number;
      name: string;
      source: IdentitySource;
      disabled: boolean;
      has_password: boolean;
      created_at: Date;
      updated_at: Date;
      roles: Array<{ id: number; name: string }>;
    }>(LOAD_IDENTITY, [id]);
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      name: row.name,
      source: row.source,
      disabled: row.disabled,
      roles: new Map(row.roles.map((r) => [r.id, r.name])),
      facts: { hasPassword: row.has_password, createdAt: row.created_at, updatedAt: row.updated_at },
    };
  }
}
