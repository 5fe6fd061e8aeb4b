import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { AppTokenHousekeepingService } from '../src/app-token/app-token-housekeeping.service.js';
import { CLAIM } from '../src/app-token/token-codec.js';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { connect } from './support/database.js';
import { decodePayload, mintPsuToken, nowSeconds } from './support/tokens.js';

const DAY = 86_400;

/**
 * Every path that removes a token record leaves a tombstone living until the JWT's own exp, so no
 * migration (POST /api/v1/apptoken) can bring the token back. The answer is 409: the token itself is
 * well formed and verifies (422 is for tokens or bodies that are wrong); it conflicts with what
 * happened here, as re-migrating a deleted token always has.
 */
describe('token removal leaves tombstones', () => {
  let t: TestApp;
  let sql: pg.Client;
  let admin: string;

  const migrate = (token: string, name: string, role: string, extra: Record<string, unknown> = {}) =>
    t.http.post('/api/v1/apptoken', { Token: token, Identity: { Name: name }, Role: role, ...extra }, { session: admin });
  const tombstone = async (token: string) =>
    (await sql.query('SELECT expires_at FROM app_token_tombstone WHERE hash = $1', [decodePayload(token)[CLAIM.hash]])).rows[0] as { expires_at: Date | null } | undefined;

  beforeAll(async () => {
    t = await startApp();
    sql = await connect(t.db.url);
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  it("refuses (409) to migrate back the tokens of a deleted identity, and they stay refused", async () => {
    const migrated = mintPsuToken({ name: 'leaver', roles: ['Reader'] }, TEST_SIGNING_KEY);
    expect((await migrate(migrated, 'leaver', 'Reader')).status).toBe(201);
    const leaver = (await t.http.get('/api/v1/identity?search=leaver', { session: admin })).body[0];
    const granted = (await t.http.get(`/api/v1/apptoken/grant/${leaver.id}`, { session: admin })).body.token as string;
    expect((await t.http.get('/api/v1/identity/my', { token: granted })).status).toBe(200);

    expect((await t.http.delete(`/api/v1/identity/${leaver.id}`, { session: admin })).status).toBe(204);

    for (const token of [migrated, granted]) {
      const again = await migrate(token, 'leaver', 'Reader');
      expect(again.status).toBe(409);
      expect(again.body.message).toMatch(/deleted here/);
      expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(401);
    }
    // Nothing was recreated by the refused migrations.
    expect((await sql.query("SELECT count(*)::int AS n FROM identity WHERE name_key = 'leaver'")).rows[0].n).toBe(0);
  });

  it("keeps a tombstone until the JWT's own exp when the migration shortened the record's expiry", async () => {
    const exp = nowSeconds() + 90 * DAY;
    const token = mintPsuToken({ name: 'admin', roles: ['Administrator'], exp }, TEST_SIGNING_KEY);
    const stored = await migrate(token, 'admin', 'Administrator', { Expiration: new Date(Date.now() + 86_400_000).toISOString() });
    expect(stored.status).toBe(201);
    // Its record expired long ago (as far as the retention period is concerned); the JWT is valid for months.
    await sql.query(`UPDATE app_token SET expires_at = now() - interval '40 days', created_at = now() - interval '41 days' WHERE id = $1`, [stored.body.id]);
    expect(await t.app.get(AppTokenHousekeepingService).run()).toBeGreaterThanOrEqual(1);
    expect((await t.http.get(`/api/v1/apptoken/${stored.body.id}`, { session: admin })).status).toBe(404);
    expect((await tombstone(token))?.expires_at?.getTime()).toBe(exp * 1000);

    const again = await migrate(token, 'admin', 'Administrator');
    expect(again.status).toBe(409);
    expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(401);
  });

  it("dates the tombstone of a deleted, shortened migration by the JWT's exp too", async () => {
    const exp = nowSeconds() + 60 * DAY;
    const token = mintPsuToken({ name: 'admin', roles: ['Reader'], exp }, TEST_SIGNING_KEY);
    const stored = await migrate(token, 'admin', 'Reader', { Expiration: new Date(Date.now() + 3_600_000).toISOString() });
    expect(stored.status).toBe(201);
    expect((await t.http.delete(`/api/v1/apptoken/${stored.body.id}`, { session: admin })).status).toBe(204);
    expect((await tombstone(token))?.expires_at?.getTime()).toBe(exp * 1000);
  });

  it('tombstones purged tokens, so a purged token cannot be migrated back either', async () => {
    const granted = (await t.http.get('/api/v1/apptoken/grant?role=Reader', { session: admin })).body;
    await t.http.post(`/api/v1/apptoken/${granted.id}/revoke`, undefined, { session: admin });
    await sql.query(`UPDATE app_token SET revoked_at = now() - interval '31 days' WHERE id = $1`, [granted.id]);
    expect(await t.app.get(AppTokenHousekeepingService).run()).toBe(1);
    expect((await migrate(granted.token, 'admin', 'Reader')).status).toBe(409);
  });
});
