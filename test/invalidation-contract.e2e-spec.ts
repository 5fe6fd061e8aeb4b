import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { CLAIM } from '../src/app-token/token-codec.js';
import { encodeInvalidation, INVALIDATION_CHANNEL, InvalidationService, type Invalidation } from '../src/database/invalidation.service.js';
import { UnitOfWork } from '../src/database/unit-of-work.js';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { databaseMode } from './support/database.js';
import { decodePayload, mintPsuToken } from './support/tokens.js';

const hashOf = (token: string) => decodePayload(token)[CLAIM.hash] as string;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every change that can make a cached record stale must reach this instance's caches when it commits, and
 * (on a PostgreSQL server) every other instance through NOTIFY. Each operation below is checked for both:
 * a change committed without its invalidation fails here.
 */
describe('every change publishes its invalidation (issue 7, item 9)', () => {
  let t: TestApp;
  let admin: string;
  let listener: pg.Client | undefined;
  const applied: Invalidation[] = [];
  const notified: string[] = [];

  beforeAll(async () => {
    t = await startApp();
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    t.app.get(InvalidationService).subscribe((event) => applied.push(event));
    if (databaseMode() === 'server') {
      listener = new pg.Client({ connectionString: t.db.url });
      await listener.connect();
      listener.on('notification', (message) => {
        if (message.channel === INVALIDATION_CHANNEL && !message.payload?.startsWith('p:')) notified.push(message.payload ?? '');
      });
      await listener.query(`LISTEN ${INVALIDATION_CHANNEL}`);
    }
  });
  afterAll(async () => {
    await listener?.end();
    await t?.close();
  });

  /** Runs `change` and checks that each expected invalidation was applied here and NOTIFYed. */
  async function expectPublished<T>(change: () => Promise<T>, expected: (result: T) => Invalidation[]): Promise<T> {
    applied.length = 0;
    notified.length = 0;
    const result = await change();
    const events = expected(result);
    // Applied here before the response was sent.
    for (const event of events) expect(applied).toContainEqual(event);
    if (listener) {
      const deadline = Date.now() + 2000;
      while (!events.every((event) => notified.includes(encodeInvalidation(event))) && Date.now() < deadline) await sleep(10);
      expect(notified).toEqual(expect.arrayContaining(events.map(encodeInvalidation)));
    }
    return result;
  }

  const ok = async <T>(response: Promise<{ status: number; body: T; text: string }>) => {
    const r = await response;
    if (r.status >= 300) throw new Error(`${r.status} ${r.text}`);
    return r.body;
  };

  it('app tokens: grant, migrate, revoke, rotate, delete, and children revoked with their parent', async () => {
    // A grant makes nothing stale: its hash is a random UUID signed only now, so no cache can hold an answer for
    // it, and a NOTIFY would serialise the grant's commit with every other (PostgreSQL holds its notify lock through
    // the commit). It announces nothing.
    const granted = await expectPublished(() => ok<any>(t.http.get('/api/v1/apptoken/grant', { session: admin })), () => []);
    expect(applied).toEqual([]);
    if (listener) {
      await sleep(100);
      expect(notified).toEqual([]);
    }
    const migrated = mintPsuToken({ name: 'admin', roles: ['Reader'] }, TEST_SIGNING_KEY);
    await expectPublished(() => ok(t.http.post('/api/v1/apptoken', { Token: migrated, Identity: { Name: 'admin' }, Role: 'Reader' }, { session: admin })), () => [{ kind: 'token', hash: hashOf(migrated) }]);
    const rotated = await expectPublished(
      () => ok<any>(t.http.post(`/api/v1/apptoken/${granted.id}/rotate`, {}, { session: admin })),
      // The old token only: the new one's hash is as new as a grant's.
      () => [{ kind: 'token', hash: hashOf(granted.token) }],
    );
    const child = await ok<any>(t.http.get('/api/v1/apptoken/grant', { token: rotated.token }));
    await expectPublished(() => ok(t.http.post(`/api/v1/apptoken/${rotated.id}/revoke`, undefined, { session: admin })), () => [{ kind: 'token', hash: hashOf(rotated.token) }, { kind: 'token', hash: hashOf(child.token) }]);
    const doomed = await ok<any>(t.http.get('/api/v1/apptoken/grant', { session: admin }));
    await expectPublished(() => t.http.delete(`/api/v1/apptoken/${doomed.id}`, { session: admin }), () => [{ kind: 'token', hash: hashOf(doomed.token) }]);
  });

  it('identities: update and delete', async () => {
    const bot = await ok<any>(t.http.post('/api/v1/identity', { name: 'contract-bot', source: 'service', roles: ['Reader'] }, { session: admin }));
    await expectPublished(() => ok(t.http.patch(`/api/v1/identity/${bot.id}`, { disabled: true }, { session: admin })), () => [{ kind: 'identity', id: bot.id }]);
    await expectPublished(() => t.http.delete(`/api/v1/identity/${bot.id}`, { session: admin }), () => [{ kind: 'identity', id: bot.id }]);
  });

  it('roles: rename and delete', async () => {
    await ok(t.http.post('/api/v1/role', { name: 'Contract' }, { session: admin }));
    await expectPublished(() => ok(t.http.put('/api/v1/role/Contract', { name: 'Contract2' }, { session: admin })), () => [{ kind: 'all' }]);
    await expectPublished(() => t.http.delete('/api/v1/role/Contract2', { session: admin }), () => [{ kind: 'all' }]);
  });

  it('endpoint rules: create, update, delete', async () => {
    const rule = await expectPublished(() => ok<any>(t.http.post('/api/v1/endpoint', { url: '/contract/*', method: ['GET'], authentication: true }, { session: admin })), () => [{ kind: 'endpoints' }]);
    await expectPublished(() => ok(t.http.put(`/api/v1/endpoint/${rule.id}`, { method: ['GET', 'POST'] }, { session: admin })), () => [{ kind: 'endpoints' }]);
    await expectPublished(() => t.http.delete(`/api/v1/endpoint/${rule.id}`, { session: admin }), () => [{ kind: 'endpoints' }]);
  });

  it('UnitOfWork publishes nothing for work that fails, and refuses invalidate() once it has ended', async () => {
    const work = t.app.get(UnitOfWork);
    applied.length = 0;
    await expect(
      work.run(async (tx) => {
        tx.invalidate({ kind: 'identity', id: 424242 });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    let escaped: ((event: Invalidation) => void) | undefined;
    await work.run(async (tx) => {
      escaped = tx.invalidate;
    });
    expect(() => escaped!({ kind: 'all' })).toThrow(/after its unit of work ended/);
    expect(applied).toEqual([]);
  });
});
