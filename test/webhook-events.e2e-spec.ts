import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { AppTokenHousekeepingService } from '../src/app-token/app-token-housekeeping.service.js';
import { ExpiringTokenScan } from '../src/app-token/expiring-token-scan.service.js';
import { RevokedUseReporter } from '../src/app-token/revoked-use.reporter.js';
import { CLAIM } from '../src/app-token/token-codec.js';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { connect, type TestDatabase } from './support/database.js';
import { decodePayload, mintPsuToken } from './support/tokens.js';

const ALL_EVENTS = [
  'apptoken.granted',
  'apptoken.revoked',
  'apptoken.deleted',
  'apptoken.rotated',
  'apptoken.expiring',
  'apptoken.revoked_used',
  'identity.created',
  'identity.deleted',
  'identity.roles_changed',
];

interface Delivery {
  webhook_id: number;
  event_type: string;
  payload: string;
}

/**
 * Issue 11: the sources of webhook events. Every change that emits writes its events to the outbox
 * (webhook_delivery) in its own transaction, one row per enabled webhook subscribed to the event; the two
 * events no API call makes (expiring, revoked_used) come from a periodic scan and from refused uses. Asserted on
 * the rows the app writes; delivery itself is another spec's. No payload may carry a token's value or hash.
 */
describe('webhook events', () => {
  let t: TestApp;
  let db: TestDatabase;
  let sql: pg.Client;
  let admin: string;
  let adminId: number;
  /** Webhooks: every event; only apptoken.revoked; every event but disabled. */
  let all: number;
  let revokedOnly: number;
  let disabled: number;
  /** Every token value seen, with its hash claim and SHA-256: none may appear in a payload. */
  const secrets: string[] = [];

  const remember = (token: string) => {
    secrets.push(token, String(decodePayload(token)[CLAIM.hash]), createHash('sha256').update(token).digest('hex'), createHash('sha256').update(token).digest('base64'));
    return token;
  };
  const grant = async (query = '', auth: { session?: string; token?: string } = { session: admin }) => {
    const answer = await t.http.get(`/api/v1/apptoken/grant${query}`, auth);
    expect(answer.status).toBe(200);
    return { id: answer.body.id as number, token: remember(answer.body.token as string) };
  };
  const rows = async (): Promise<Delivery[]> => (await sql.query('SELECT webhook_id, event_type, payload FROM webhook_delivery ORDER BY id')).rows as Delivery[];
  /** The messages the webhook subscribed to everything received, of one type, parsed. */
  const events = async (type: string) =>
    (await rows()).filter((row) => row.webhook_id === all && row.event_type === type).map((row) => JSON.parse(row.payload) as { type: string; timestamp: string; data: any });
  const eventOf = async (type: string) => {
    const found = await events(type);
    expect(found).toHaveLength(1);
    return found[0].data;
  };
  const adminRef = () => ({ id: adminId, name: 'admin' });

  beforeAll(async () => {
    t = await startApp();
    db = t.db;
    sql = await connect(db.url);
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    adminId = (await t.http.get('/api/v1/identity/my', { session: admin })).body.id;
    const insert = async (events: string[], enabled: boolean) =>
      (await sql.query(`INSERT INTO webhook (url, events, secret, enabled) VALUES ('https://example.invalid/', $1, 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=', $2) RETURNING id`, [events, enabled])).rows[0].id as number;
    all = await insert(ALL_EVENTS, true);
    revokedOnly = await insert(['apptoken.revoked'], true);
    disabled = await insert(ALL_EVENTS, false);
  });
  beforeEach(async () => {
    await sql.query('DELETE FROM webhook_delivery');
  });
  afterEach(async () => {
    const written = await rows();
    // Only subscribed, enabled webhooks get rows.
    expect(written.filter((row) => row.webhook_id === disabled)).toEqual([]);
    expect(written.filter((row) => row.webhook_id === revokedOnly && row.event_type !== 'apptoken.revoked')).toEqual([]);
    // Each revocation reaches both webhooks that want it, as the same message.
    const revokedFor = (id: number) => written.filter((row) => row.webhook_id === id && row.event_type === 'apptoken.revoked').map((row) => row.payload);
    expect(revokedFor(revokedOnly)).toEqual(revokedFor(all));
    // Never a token's value, its hash claim or its digest.
    for (const row of written) for (const secret of secrets) expect(row.payload).not.toContain(secret);
  });
  afterAll(async () => {
    await sql?.end();
    await t?.stop();
    await db?.drop();
  });

  describe('apptoken.granted', () => {
    it('is emitted by a grant, naming the token, its identity, roles and dates, who granted it and with which token', async () => {
      const parent = await grant('?lifespanDays=30');
      const granted = await eventOf('apptoken.granted');
      expect(granted).toEqual({
        token: {
          id: parent.id,
          identity: adminRef(),
          roles: ['Administrator', 'Operator', 'Reader'],
          created: expect.any(String),
          expiration: expect.any(String),
          revokedDate: null,
          description: '',
        },
        migrated: false,
        parentTokenId: null,
        by: adminRef(),
      });
      // The dates are the token's, as the API shows them.
      const shown = (await t.http.get(`/api/v1/apptoken/${parent.id}`, { session: admin })).body;
      expect([granted.token.created, granted.token.expiration]).toEqual([shown.created, shown.expiration]);

      const child = await grant('?lifespanDays=1', { token: parent.token });
      const both = await events('apptoken.granted');
      expect(both.map((event) => event.data.token.id)).toEqual([parent.id, child.id]);
      expect(both[1].data.parentTokenId).toBe(parent.id);
      expect(both[1].type).toBe('apptoken.granted');
    });

    it('is emitted, marked migrated, by a migration, after identity.created for the identity the migration creates', async () => {
      const psu = remember(mintPsuToken({ name: 'psu-migrated', roles: ['Reader'] }, TEST_SIGNING_KEY));
      const stored = await t.http.post('/api/v1/apptoken', { Token: psu, Identity: { Name: 'psu-migrated' }, Role: 'Reader' }, { session: admin });
      expect(stored.status).toBe(201);
      const identity = await eventOf('identity.created');
      expect(identity).toEqual({ identity: { id: stored.body.identity.id, name: 'psu-migrated', source: 'migrated', roles: ['Reader'] }, reason: 'migrated', by: adminRef() });
      const granted = await eventOf('apptoken.granted');
      expect(granted).toMatchObject({ token: { id: stored.body.id, identity: { name: 'psu-migrated' }, roles: ['Reader'], description: 'migrated' }, migrated: true, by: adminRef() });
      expect((await rows()).filter((row) => row.webhook_id === all).map((row) => row.event_type)).toEqual(['identity.created', 'apptoken.granted']);
    });
  });

  describe('apptoken.revoked', () => {
    it('is emitted for the revoked token and for every token revoked with it, to each webhook that subscribes', async () => {
      const parent = await grant();
      const child = await grant('', { token: parent.token });
      const grandchild = await grant('', { token: child.token });
      await sql.query('DELETE FROM webhook_delivery');
      expect((await t.http.post(`/api/v1/apptoken/${parent.id}/revoke`, undefined, { session: admin })).status).toBe(200);
      const revoked = await events('apptoken.revoked');
      expect(revoked.map((event) => [event.data.token.id, event.data.reason, event.data.parentTokenId])).toEqual([
        [parent.id, 'revoked', undefined],
        expect.anything(),
        expect.anything(),
      ]);
      expect(revoked.slice(1).map((event) => [event.data.token.id, event.data.reason, event.data.parentTokenId]).sort()).toEqual(
        [
          [child.id, 'parent_revoked', parent.id],
          [grandchild.id, 'parent_revoked', child.id],
        ].sort(),
      );
      for (const event of revoked) {
        expect(event.data.token.revokedDate).toEqual(expect.any(String));
        expect(event.data.by).toEqual(adminRef());
      }
      expect((await rows()).filter((row) => row.webhook_id === revokedOnly)).toHaveLength(3);
      // Revoking it again changes nothing, and says nothing.
      await sql.query('DELETE FROM webhook_delivery');
      expect((await t.http.post(`/api/v1/apptoken/${parent.id}/revoke`, undefined, { session: admin })).status).toBe(200);
      expect(await rows()).toEqual([]);
    });

    it('writes nothing when the change is refused, even after its events were emitted (the outbox shares its transaction)', async () => {
      const mine = await grant();
      await grant('', { token: mine.token });
      const reader = await t.http.post('/api/v1/identity', { name: 'events-reader', password: 'a long reader passphrase', roles: ['Reader'] }, { session: admin });
      expect(reader.status).toBe(201);
      const session = await t.http.signin('events-reader', 'a long reader passphrase');
      await sql.query('DELETE FROM webhook_delivery');
      expect((await t.http.post(`/api/v1/apptoken/${mine.id}/revoke`, undefined, { session })).status).toBe(404);
      // The last Administrator's delete revokes and removes its tokens (emitting), then is refused: all rolled back.
      const refused = await t.http.delete(`/api/v1/identity/${adminId}`, { session: admin });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('LAST_ADMINISTRATOR');
      expect(await rows()).toEqual([]);
    });
  });

  describe('apptoken.deleted', () => {
    it('is emitted for a deleted token and each descendant removed with it', async () => {
      const parent = await grant();
      const child = await grant('', { token: parent.token });
      await sql.query('DELETE FROM webhook_delivery');
      expect((await t.http.delete(`/api/v1/apptoken/${parent.id}`, { session: admin })).status).toBe(204);
      const deleted = await events('apptoken.deleted');
      expect(deleted.map((event) => [event.data.token.id, event.data.reason]).sort()).toEqual(
        [
          [parent.id, 'deleted'],
          [child.id, 'parent_deleted'],
        ].sort(),
      );
      expect(deleted[0].data.token).toMatchObject({ identity: adminRef(), roles: ['Administrator', 'Operator', 'Reader'] });
      // The child was revoked with it first.
      expect((await events('apptoken.revoked')).map((event) => [event.data.token.id, event.data.reason])).toEqual([[child.id, 'parent_deleted']]);
    });

    it("is emitted for an identity's tokens when it is deleted, with identity.deleted", async () => {
      const created = await t.http.post('/api/v1/identity', { name: 'events-leaver', source: 'service', roles: ['Reader'] }, { session: admin });
      expect(created.status).toBe(201);
      const token = await grant(`/${created.body.id}`);
      await sql.query('DELETE FROM webhook_delivery');
      expect((await t.http.delete(`/api/v1/identity/${created.body.id}`, { session: admin })).status).toBe(204);
      expect(await eventOf('apptoken.deleted')).toMatchObject({ token: { id: token.id, identity: { id: created.body.id, name: 'events-leaver' }, roles: ['Reader'] }, reason: 'identity_deleted', by: adminRef() });
      expect(await eventOf('identity.deleted')).toEqual({
        identity: { id: created.body.id, name: 'events-leaver', source: 'service', roles: ['Reader'] },
        tokensDeleted: 1,
        by: adminRef(),
      });
    });

    it('is emitted by the housekeeping purge, with reason "purged" and no actor', async () => {
      const old = await grant();
      await sql.query(`UPDATE app_token SET revoked_at = now() - interval '40 days' WHERE id = $1`, [old.id]);
      await sql.query('DELETE FROM webhook_delivery');
      expect(await t.app.get(AppTokenHousekeepingService).run()).toBeGreaterThanOrEqual(1);
      const purged = (await events('apptoken.deleted')).filter((event) => event.data.token.id === old.id);
      expect(purged).toHaveLength(1);
      expect(purged[0].data).toMatchObject({ reason: 'purged', by: null });
    });
  });

  describe('apptoken.rotated', () => {
    it("names the old and new tokens and the old one's revocation after the grace period, announced as apptoken.revoked too", async () => {
      const old = await grant('?lifespanDays=30');
      await sql.query('DELETE FROM webhook_delivery');
      const rotated = await t.http.post(`/api/v1/apptoken/${old.id}/rotate`, { graceSeconds: 120 }, { session: admin });
      expect(rotated.status).toBe(201);
      remember(rotated.body.token);
      const event = await eventOf('apptoken.rotated');
      expect(event).toMatchObject({ token: { id: old.id, identity: adminRef() }, newToken: { id: rotated.body.id, identity: adminRef(), revokedDate: null }, graceSeconds: 120, by: adminRef() });
      expect(new Date(event.token.revokedDate).getTime()).toBe(new Date(event.newToken.created).getTime() + 120_000);
      expect(await eventOf('apptoken.revoked')).toMatchObject({ token: { id: old.id, revokedDate: event.token.revokedDate }, reason: 'rotated', newTokenId: rotated.body.id });
      // A rotation is not a grant.
      expect(await events('apptoken.granted')).toEqual([]);
    });
  });

  describe('identity events', () => {
    it('identity.created by POST /identity, identity.roles_changed only when the set of roles changes', async () => {
      const created = await t.http.post('/api/v1/identity', { name: 'events-svc', source: 'service', roles: ['Reader'] }, { session: admin });
      expect(created.status).toBe(201);
      expect(await eventOf('identity.created')).toEqual({ identity: { id: created.body.id, name: 'events-svc', source: 'service', roles: ['Reader'] }, disabled: false, by: adminRef() });

      const id = created.body.id as number;
      expect((await t.http.put(`/api/v1/identity/${id}`, { roles: ['reader', 'Operator'] }, { session: admin })).status).toBe(200);
      expect(await eventOf('identity.roles_changed')).toEqual({
        identity: { id, name: 'events-svc', source: 'service', roles: ['Operator', 'Reader'] },
        before: ['Reader'],
        after: ['Operator', 'Reader'],
        by: adminRef(),
      });
      await sql.query('DELETE FROM webhook_delivery');
      // The same set again, and a change of something else: no event.
      expect((await t.http.put(`/api/v1/identity/${id}`, { roles: ['Operator', 'Reader'] }, { session: admin })).status).toBe(200);
      expect((await t.http.put(`/api/v1/identity/${id}`, { name: 'events-svc2', disabled: true }, { session: admin })).status).toBe(200);
      expect(await rows()).toEqual([]);
    });

    it('identity.roles_changed for each holder when a role is deleted', async () => {
      expect((await t.http.post('/api/v1/role', { name: 'events-temp', description: '' }, { session: admin })).status).toBe(201);
      const holder = await t.http.post('/api/v1/identity', { name: 'events-holder', source: 'service', roles: ['events-temp', 'Reader'] }, { session: admin });
      expect(holder.status).toBe(201);
      await sql.query('DELETE FROM webhook_delivery');
      expect((await t.http.delete('/api/v1/role/events-temp', { session: admin })).status).toBe(204);
      expect(await eventOf('identity.roles_changed')).toEqual({
        identity: { id: holder.body.id, name: 'events-holder', source: 'service', roles: ['Reader'] },
        before: ['Reader', 'events-temp'],
        after: ['Reader'],
        reason: 'role_deleted',
        by: adminRef(),
      });
    });
  });

  describe('identity events at start-up', () => {
    it('identity.roles_changed when ADMIN_RESET_PASSWORD gives the admin back the built-in roles, by nobody', async () => {
      expect((await t.http.put(`/api/v1/identity/${adminId}`, { roles: ['Administrator', 'Reader'] }, { session: admin })).status).toBe(200);
      expect(await eventOf('identity.roles_changed')).toMatchObject({ before: ['Administrator', 'Operator', 'Reader'], after: ['Administrator', 'Reader'], by: adminRef() });
      await sql.query('DELETE FROM webhook_delivery');
      await t.stop();
      t = await startApp({ db, env: { ADMIN_RESET_PASSWORD: 'true' } });
      admin = await t.http.signin('admin', ADMIN_PASSWORD);
      expect(await eventOf('identity.roles_changed')).toEqual({
        identity: { id: adminId, name: 'admin', source: 'local', roles: ['Administrator', 'Operator', 'Reader'] },
        before: ['Administrator', 'Reader'],
        after: ['Administrator', 'Operator', 'Reader'],
        reason: 'admin_reset',
        by: null,
      });
    });
  });

  describe('apptoken.expiring', () => {
    const notified = async (id: number) => (await sql.query('SELECT expiring_notified_at FROM app_token WHERE id = $1', [id])).rows[0].expiring_notified_at as Date | null;
    const restart = async () => {
      await t.stop();
      t = await startApp({ db });
      admin = await t.http.signin('admin', ADMIN_PASSWORD);
    };

    it('is emitted once per token entering the window, by the scan at start-up, and only while a webhook listens', async () => {
      const soon = await grant('?lifespanDays=3');
      const later = await grant('?lifespanDays=30');
      const revoked = await grant('?lifespanDays=2');
      expect((await t.http.post(`/api/v1/apptoken/${revoked.id}/revoke`, undefined, { session: admin })).status).toBe(200);
      // Nobody listens: nothing is marked, so a webhook created (or enabled) later still hears of it.
      await sql.query('UPDATE webhook SET enabled = false WHERE id = $1', [all]);
      try {
        await t.app.get(ExpiringTokenScan).run();
        expect(await notified(soon.id)).toBeNull();
      } finally {
        await sql.query('UPDATE webhook SET enabled = true WHERE id = $1', [all]);
      }
      await sql.query('DELETE FROM webhook_delivery');

      await restart();
      // (Tokens of earlier tests may be in the window too.)
      const ours = async () => (await events('apptoken.expiring')).filter((event) => [soon.id, later.id, revoked.id].includes(event.data.token.id));
      const expiring = await ours();
      expect(expiring.map((event) => event.data.token.id)).toEqual([soon.id]);
      expect(expiring[0].data).toMatchObject({ token: { id: soon.id, identity: adminRef(), revokedDate: null }, windowDays: 7 });
      expect(await notified(soon.id)).not.toBeNull();
      expect(await notified(later.id)).toBeNull();

      // Again, and after another restart: still once.
      expect(await t.app.get(ExpiringTokenScan).run()).toBe(0);
      await restart();
      expect(await ours()).toHaveLength(1);
    });

    it('announces, once, a token whose expiry moves back into the window after it was announced (the trigger clears the mark)', async () => {
      const token = await grant('?lifespanDays=5');
      expect(await t.app.get(ExpiringTokenScan).run()).toBeGreaterThanOrEqual(1);
      // No route extends a token today; the schema resets the mark whenever expires_at changes.
      await sql.query(`UPDATE app_token SET expires_at = expires_at + interval '1 day' WHERE id = $1`, [token.id]);
      expect(await notified(token.id)).toBeNull();
      await t.app.get(ExpiringTokenScan).run();
      await t.app.get(ExpiringTokenScan).run();
      expect((await events('apptoken.expiring')).filter((event) => event.data.token.id === token.id)).toHaveLength(2);
    });
    it('is announced to a webhook that subscribes with "*" alone (all events, this one included)', async () => {
      const token = await grant('?lifespanDays=4');
      const events0 = (await sql.query('SELECT events FROM webhook WHERE id = $1', [all])).rows[0].events as string[];
      await sql.query(`UPDATE webhook SET events = '{*}' WHERE id = $1`, [all]);
      try {
        await t.app.get(ExpiringTokenScan).run();
        expect(await notified(token.id)).not.toBeNull();
        expect((await events('apptoken.expiring')).filter((event) => event.data.token.id === token.id)).toHaveLength(1);
      } finally {
        await sql.query('UPDATE webhook SET events = $2 WHERE id = $1', [all, events0]);
      }
    });
  });

  describe('apptoken.revoked_used', () => {
    const burst = async (app: TestApp, token: string, times: number, path = '/api/v1/identity/my') => {
      const answers = await Promise.all(Array.from({ length: times }, () => app.http.get(path, { token })));
      expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: times }, () => 401));
      await app.app.get(RevokedUseReporter).settled();
    };

    it('is emitted at most once a minute per token under a burst of 50 uses, on any number of instances', async () => {
      const valid = await grant();
      const token = await grant('?lifespanDays=10');
      expect((await t.http.post(`/api/v1/apptoken/${token.id}/revoke`, undefined, { session: admin })).status).toBe(200);
      await sql.query('DELETE FROM webhook_delivery');
      // A valid token's use is no event.
      expect((await t.http.get('/api/v1/identity/my', { token: valid.token })).status).toBe(200);

      // Counted: the statements this burst sends that mark a token (one: the instance remembers it asked).
      const marks: string[] = [];
      const originalQuery = pg.Client.prototype.query;
      (pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: pg.Client, ...args: unknown[]) {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
        if (text?.includes('revoked_used_notified_at = now()')) marks.push(text);
        return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof pg.Client.prototype.query;
      try {
        await burst(t, token.token, 50);
      } finally {
        pg.Client.prototype.query = originalQuery;
      }
      expect(marks).toHaveLength(1);
      const used = await eventOf('apptoken.revoked_used');
      expect(used).toEqual({
        token: {
          id: token.id,
          identity: adminRef(),
          roles: ['Administrator', 'Operator', 'Reader'],
          created: expect.any(String),
          expiration: expect.any(String),
          revokedDate: expect.any(String),
          description: '',
        },
        presented: { address: '127.0.0.1', via: 'bearer', at: expect.any(String) },
        deleted: false,
        deletedDate: null,
      });

      // Another instance within the minute: the database says no.
      const other = await startApp({ db });
      try {
        await burst(other, token.token, 25);
        await burst(other, token.token, 25, '/api/v1/apptoken/verify');
        expect(await events('apptoken.revoked_used')).toHaveLength(1);
        // A minute later (as the database sees it), a fresh instance announces it again, via forward-auth this time.
        await sql.query(`UPDATE app_token SET revoked_used_notified_at = now() - interval '61 seconds' WHERE id = $1`, [token.id]);
        await other.stop();
        const third = await startApp({ db });
        try {
          await burst(third, token.token, 50, '/api/v1/apptoken/verify');
          const again = await events('apptoken.revoked_used');
          expect(again).toHaveLength(2);
          expect(again[1].data.presented.via).toBe('forward-auth');
        } finally {
          await third.stop();
        }
      } finally {
        await other.stop();
      }
    });

    it('is emitted for a deleted token, from its tombstone and its claims', async () => {
      const token = await grant('?lifespanDays=10');
      expect((await t.http.delete(`/api/v1/apptoken/${token.id}`, { session: admin })).status).toBe(204);
      await sql.query('DELETE FROM webhook_delivery');
      await burst(t, token.token, 50);
      const used = await eventOf('apptoken.revoked_used');
      expect(used).toMatchObject({
        token: { id: token.id, identity: adminRef(), roles: ['Administrator', 'Operator', 'Reader'], created: expect.any(String), expiration: expect.any(String), revokedDate: null },
        presented: { address: '127.0.0.1', via: 'bearer' },
        deleted: true,
        deletedDate: expect.any(String),
      });
    });

    it('writes nothing, not even the mark, while no webhook listens', async () => {
      const token = await grant();
      expect((await t.http.post(`/api/v1/apptoken/${token.id}/revoke`, undefined, { session: admin })).status).toBe(200);
      await sql.query(`UPDATE webhook SET events = array_remove(events, 'apptoken.revoked_used') WHERE id = $1`, [all]);
      try {
        await burst(t, token.token, 5);
        expect((await sql.query('SELECT revoked_used_notified_at FROM app_token WHERE id = $1', [token.id])).rows[0].revoked_used_notified_at).toBeNull();
      } finally {
        await sql.query(`UPDATE webhook SET events = array_append(events, 'apptoken.revoked_used') WHERE id = $1`, [all]);
      }
    });

    it('is announced to a webhook that subscribes with "*" alone', async () => {
      const token = await grant();
      expect((await t.http.post(`/api/v1/apptoken/${token.id}/revoke`, undefined, { session: admin })).status).toBe(200);
      const events0 = (await sql.query('SELECT events FROM webhook WHERE id = $1', [all])).rows[0].events as string[];
      await sql.query(`UPDATE webhook SET events = '{*}' WHERE id = $1`, [all]);
      try {
        await burst(t, token.token, 3);
        expect((await events('apptoken.revoked_used')).filter((event) => event.data.token.id === token.id)).toHaveLength(1);
      } finally {
        await sql.query('UPDATE webhook SET events = $2 WHERE id = $1', [all, events0]);
      }
    });
  });
});
