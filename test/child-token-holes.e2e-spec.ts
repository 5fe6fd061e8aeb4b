import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { AppTokenHousekeepingService } from '../src/app-token/app-token-housekeeping.service.js';
import { CLAIM } from '../src/app-token/token-codec.js';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { connect } from './support/database.js';

/** Holes an outside review found in child tokens (issue 7, item 3): rotation in grace, and grants racing a revocation. */
describe('child tokens: rotation in grace and grants racing revocation', () => {
  let t: TestApp;
  let sql: pg.Client;
  let admin: string;

  const grant = async (query: string, auth: { session?: string; token?: string }) => {
    const response = await t.http.get(`/api/v1/apptoken/grant${query}`, auth);
    if (response.status !== 200) throw new Error(`grant ${query}: ${response.status} ${response.text}`);
    return response.body as { id: number; token: string; expiration: string | null };
  };
  const works = async (token: string) => (await t.http.get('/api/v1/identity/my', { token })).status === 200;
  /** Tokens left working under an ancestor that is revoked. */
  const unrevokedUnderRevoked = async () =>
    (
      await sql.query(`WITH RECURSIVE up(id, ancestor) AS (
           SELECT id, parent_token_id FROM app_token WHERE parent_token_id IS NOT NULL
           UNION SELECT up.id, t.parent_token_id FROM app_token t JOIN up ON t.id = up.ancestor WHERE t.parent_token_id IS NOT NULL)
         SELECT DISTINCT g.id FROM up JOIN app_token g ON g.id = up.id JOIN app_token a ON a.id = up.ancestor
          WHERE (g.revoked_at IS NULL OR g.revoked_at > now()) AND a.revoked_at <= now()`)
    ).rows.map((row) => row.id as number);

  beforeAll(async () => {
    t = await startApp();
    sql = await connect(t.db.url);
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  describe('a token in its rotation grace period', () => {
    it('cannot rotate itself into a new token that outlives its revocation (409)', async () => {
      const x = await grant('?lifespanDays=30', { session: admin });
      expect((await t.http.post(`/api/v1/apptoken/${x.id}/rotate`, { graceSeconds: 600 }, { session: admin })).status).toBe(201);
      const again = await t.http.post(`/api/v1/apptoken/${x.id}/rotate`, { graceSeconds: 0 }, { token: x.token });
      expect(again.status).toBe(409);
      expect(again.body.message).toMatch(/already being rotated or revoked: it ends 20\d\d-/);
      // Nor from a session: one replacement per rotation.
      expect((await t.http.post(`/api/v1/apptoken/${x.id}/rotate`, { graceSeconds: 0 }, { session: admin })).status).toBe(409);
      expect((await sql.query('SELECT count(*)::int AS n FROM app_token WHERE rotated_from_id = $1', [x.id])).rows[0].n).toBe(1);
      expect(await works(x.token)).toBe(true);
    });

    it('grants children capped to its revocation time', async () => {
      const x = await grant('?lifespanDays=30', { session: admin });
      await t.http.post(`/api/v1/apptoken/${x.id}/rotate`, { graceSeconds: 600 }, { session: admin });
      const revokedAt = (await sql.query('SELECT revoked_at FROM app_token WHERE id = $1', [x.id])).rows[0].revoked_at as Date;
      const child = await grant('', { token: x.token });
      expect(Date.parse(child.expiration!)).toBeLessThanOrEqual(revokedAt.getTime());
      expect((await t.http.get('/api/v1/apptoken/grant?lifespanDays=1', { token: x.token })).status).toBe(400);
    });
  });

  describe('grants racing a revocation of an ancestor', () => {
    it("leaves no working token when an identity is deleted while its tokens grant children (a few rounds)", async () => {
      const other = (await t.http.post('/api/v1/identity', { name: 'race-other', source: 'service', roles: ['Reader'] }, { session: admin })).body;
      for (let round = 0; round < 4; round++) {
        const adm = (await t.http.post('/api/v1/identity', { name: `race-adm-${round}`, source: 'service', roles: ['Administrator', 'Reader'] }, { session: admin })).body;
        const parent = await grant(`/${adm.id}?expiration=never`, { session: admin });
        const grants = Array.from({ length: 25 }, () => t.http.get(`/api/v1/apptoken/grant/${other.id}?role=Reader&expiration=never`, { token: parent.token }));
        await new Promise((resolve) => setTimeout(resolve, round * 5));
        const deleted = await t.http.delete(`/api/v1/identity/${adm.id}`, { session: admin });
        expect(deleted.status).toBe(204);
        const answers = await Promise.all(grants);
        for (const answer of answers) {
          expect([200, 401, 409]).toContain(answer.status === 400 ? answer.text : answer.status);
          if (answer.status === 200) expect(await works(answer.body.token)).toBe(false);
        }
      }
      const roots = await sql.query('SELECT count(*)::int AS n FROM app_token WHERE identity_id = $1 AND parent_token_id IS NULL', [other.id]);
      expect(roots.rows[0].n).toBe(0);
    });

    it('refuses with 409 (not a 400 about lifetimes) a grant whose parent was revoked while the grant waited for its lock', async () => {
      const p = await grant('?expiration=never', { session: admin });
      const c = await grant('?expiration=never', { token: p.token });
      const blocker = await connect(t.db.url);
      try {
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM app_token WHERE id = $1 FOR UPDATE', [p.id]);
        const pending = t.http.get('/api/v1/apptoken/grant?expiration=never', { token: c.token });
        // The grant has passed authentication and waits on the chain's lock.
        for (let waited = 0; ; waited += 10) {
          const { rows } = await sql.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
          if (rows[0].n > 0) break;
          if (waited > 5000) throw new Error('the grant never waited for the lock');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        // Revoked after the grant began, as a revocation committing meanwhile is: its date is later than the grant's start.
        await blocker.query('UPDATE app_token SET revoked_at = clock_timestamp() WHERE id = ANY($1)', [[p.id, c.id]]);
        await blocker.query('COMMIT');
        const answer = await pending;
        expect(answer.status).toBe(409);
        expect(answer.body.message).toMatch(/revoked or has expired meanwhile/);
      } finally {
        await blocker.end();
      }
    });

    it('leaves no grandchild unrevoked when its grandparent is revoked during the grant, nor orphaned by the purge (a few rounds)', async () => {
      const granted: string[] = [];
      for (let round = 0; round < 6; round++) {
        const p = await grant('?expiration=never', { session: admin });
        const c = await grant('?expiration=never', { token: p.token });
        const grants = Array.from({ length: 30 }, () => t.http.get('/api/v1/apptoken/grant?expiration=never', { token: c.token }));
        await new Promise((resolve) => setTimeout(resolve, round * 10));
        expect((await t.http.post(`/api/v1/apptoken/${p.id}/revoke`, undefined, { session: admin })).status).toBe(200);
        for (const answer of await Promise.all(grants)) {
          expect([200, 401, 409]).toContain(answer.status);
          if (answer.status === 200) granted.push(answer.body.token);
        }
      }
      expect(await unrevokedUnderRevoked()).toEqual([]);
      await t.app.get(AppTokenHousekeepingService).purgeEndedBefore(new Date(Date.now() + 1000));
      for (const token of granted) expect(await works(token)).toBe(false);
    });
    it('never fails (5xx) nor leaves a replacement working when a child rotates itself while its parent is revoked (a few rounds)', async () => {
      for (let round = 0; round < 6; round++) {
        const p = await grant('?expiration=never', { session: admin });
        const children = await Promise.all(Array.from({ length: 8 }, () => grant('?expiration=never', { token: p.token })));
        const rotations = children.map((c) => t.http.post(`/api/v1/apptoken/${c.id}/rotate`, { graceSeconds: 60 }, { token: c.token }));
        await new Promise((resolve) => setTimeout(resolve, round * 5));
        const revoked = await t.http.post(`/api/v1/apptoken/${p.id}/revoke`, undefined, { session: admin });
        expect(revoked.status).toBe(200);
        for (const answer of await Promise.all(rotations)) {
          expect([201, 401, 409]).toContain(answer.status >= 500 ? answer.text : answer.status);
          if (answer.status === 201) expect(await works(answer.body.token)).toBe(false);
        }
      }
      expect(await unrevokedUnderRevoked()).toEqual([]);
    });
  });

  describe('deleting a parent deletes its subtree', () => {
    const chain = async () => {
      const p = await grant('?expiration=never', { session: admin });
      const c = await grant('?expiration=never', { token: p.token });
      const g = await grant('?expiration=never', { token: c.token });
      return { p, c, g };
    };
    const exists = async (id: number) => (await sql.query('SELECT 1 FROM app_token WHERE id = $1', [id])).rowCount === 1;
    const tombstoned = async (token: string) => {
      const hash = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())[CLAIM.hash];
      return (await sql.query('SELECT 1 FROM app_token_tombstone WHERE hash = $1', [hash])).rowCount === 1;
    };

    it('the purge deletes grandchildren with their ancestors instead of orphaning them into root tokens', async () => {
      const { p, c, g } = await chain();
      expect(await works(g.token)).toBe(true);
      // What a lost race used to leave: the ancestors revoked long ago, the grandchild not.
      await sql.query(`UPDATE app_token SET revoked_at = now() - interval '1 day' WHERE id = ANY($1)`, [[p.id, c.id]]);
      await t.app.get(AppTokenHousekeepingService).purgeEndedBefore(new Date());
      expect(await exists(p.id)).toBe(false);
      expect(await exists(g.id)).toBe(false);
      expect(await tombstoned(g.token)).toBe(true);
      expect(await works(g.token)).toBe(false);
    });

    it('DELETE of a token deletes (and tombstones) its descendants, refused at once on this instance', async () => {
      const { p, c, g } = await chain();
      expect(await works(c.token)).toBe(true);
      expect(await works(g.token)).toBe(true);
      expect((await t.http.delete(`/api/v1/apptoken/${p.id}`, { session: admin })).status).toBe(204);
      expect(await works(c.token)).toBe(false);
      expect(await works(g.token)).toBe(false);
      expect(await exists(c.id)).toBe(false);
      expect(await exists(g.id)).toBe(false);
      expect(await tombstoned(c.token)).toBe(true);
      expect(await tombstoned(g.token)).toBe(true);
    });
  });
});
