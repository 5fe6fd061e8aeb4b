import { describe, expect, it } from '@jest/globals';
import type { Invalidation, InvalidationService } from '../database/invalidation.service.js';
import type { SqlPool, Statement } from '../database/sql-pool.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { TokenRecords } from './token-records.js';

const HASH = '9f1c4c5e-7a39-4a4e-9d4a-3f3f3f3f3f3f';

/** A token row as the load query returns it; `revision` tells loads apart. */
function row(revision: number) {
  return { id: revision, token_sha256: Buffer.alloc(32), identity_id: 1, expires_ms: null, revoked_in_ms: null, role_ids: [1], parent_hash: null };
}

/** TokenRecords over a database whose every query waits until the test answers it. */
function harness() {
  const pending: Array<{ sql: string; resolve: (rows: unknown[]) => void; reject: (error: Error) => void }> = [];
  const sql = {
    rows: (statement: Statement) => new Promise<unknown[]>((resolve, reject) => pending.push({ sql: statement.text, resolve, reject })),
  } as unknown as SqlPool;
  const subscribers: Array<(event: Invalidation) => void> = [];
  const state = { epoch: 0, cacheable: true };
  const invalidation = {
    get epoch() {
      return state.epoch;
    },
    get cacheable() {
      return state.cacheable;
    },
    subscribe: (subscriber: (event: Invalidation) => void) => subscribers.push(subscriber),
  } as unknown as InvalidationService;
  const metrics = { tokenCacheLookup: () => undefined } as unknown as MetricsService;
  const records = new TokenRecords(sql, invalidation, metrics);
  const invalidate = (event: Invalidation) => {
    state.epoch++;
    for (const subscriber of subscribers) subscriber(event);
  };
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return { records, pending, invalidate, state, tick };
}

describe('TokenRecords', () => {
  it('shares one load among concurrent misses for one token, and then answers from the cache', async () => {
    const { records, pending, tick } = harness();
    const answers = Promise.all([records.token(HASH), records.token(HASH), records.token(HASH)]);
    await tick();
    expect(pending).toHaveLength(1);
    pending[0].resolve([row(1)]);
    const [a, b, c] = await answers;
    expect(a?.id).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect((await records.token(HASH))?.id).toBe(1);
    expect(pending).toHaveLength(1);
  });

  it('does not let a request that comes after an invalidation join a load begun before it, nor keep that load', async () => {
    const { records, pending, invalidate, tick } = harness();
    const before = records.token(HASH);
    await tick();
    expect(pending).toHaveLength(1);
    // The token is revoked (say) and announced while the first load is in flight.
    invalidate({ kind: 'token', hash: HASH });
    const after = records.token(HASH);
    await tick();
    expect(pending).toHaveLength(2);
    // The stale load finishes last: it must neither answer the later request nor fill the cache.
    pending[1].resolve([row(2)]);
    pending[0].resolve([row(1)]);
    expect((await before)?.id).toBe(1);
    expect((await after)?.id).toBe(2);
    expect((await records.token(HASH))?.id).toBe(2);
    expect(pending).toHaveLength(2);
  });

  it('keeps nothing read across an invalidation, and the next request loads again', async () => {
    const { records, pending, invalidate, tick } = harness();
    const first = records.token(HASH);
    await tick();
    invalidate({ kind: 'all' });
    pending[0].resolve([row(1)]);
    expect((await first)?.id).toBe(1);
    const second = records.token(HASH);
    await tick();
    expect(pending).toHaveLength(2);
    pending[1].resolve([row(2)]);
    expect((await second)?.id).toBe(2);
  });

  it('fails every waiter of a failed load, and tries again on the next request', async () => {
    const { records, pending, tick } = harness();
    const answers = [records.token(HASH), records.token(HASH)];
    await tick();
    expect(pending).toHaveLength(1);
    pending[0].reject(new Error('connection lost'));
    for (const answer of answers) await expect(answer).rejects.toThrow('connection lost');
    const retry = records.token(HASH);
    await tick();
    expect(pending).toHaveLength(2);
    pending[1].resolve([]);
    expect(await retry).toBeNull();
  });

  it('shares nothing while the invalidation listener is down: each request reads for itself', async () => {
    const { records, pending, state, tick } = harness();
    state.cacheable = false;
    const answers = Promise.all([records.identity(7), records.identity(7)]);
    await tick();
    expect(pending).toHaveLength(2);
    for (const query of pending) query.resolve([{ id: 7, name: 'bot', source: 'service', disabled: false, roles: [] }]);
    await answers;
    void records.identity(7);
    await tick();
    expect(pending).toHaveLength(3);
  });

  it('keeps a token\'s SHA-256 in memory of its own, not a slice of a pooled slab a cache entry would pin', async () => {
    const { records, pending, tick } = harness();
    const answer = records.token(HASH);
    await tick();
    // As pg parses bytea: a small Buffer.from(hex) is a slice of Buffer's shared 8 KiB pool.
    const pooled = Buffer.from('ab'.repeat(32), 'hex');
    expect(pooled.buffer.byteLength).toBeGreaterThan(32);
    pending[0].resolve([{ ...row(1), token_sha256: pooled }]);
    const record = await answer;
    expect(record!.tokenSha256.buffer.byteLength).toBe(32);
    expect(Buffer.from(record!.tokenSha256).equals(pooled)).toBe(true);
  });

  it('shares one load of an identity among concurrent misses', async () => {
    const { records, pending, tick } = harness();
    const answers = Promise.all([records.identity(7), records.identity(7)]);
    await tick();
    expect(pending).toHaveLength(1);
    pending[0].resolve([{ id: 7, name: 'bot', source: 'service', disabled: false, roles: [{ id: 1, name: 'Reader' }] }]);
    const [a, b] = await answers;
    expect(a?.roles.get(1)).toBe('Reader');
    expect(b).toBe(a);
  });
});
