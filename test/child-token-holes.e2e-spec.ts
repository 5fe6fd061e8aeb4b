import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
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
});
