import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { connect } from './support/database.js';

/** What a caller authenticated by an app token may do to other tokens (issue 7, items 3 and 4). */
describe('authority of token-authenticated callers', () => {
  let t: TestApp;
  let sql: pg.Client;
  let admin: string;

  const grant = async (query: string, auth: { session?: string; token?: string }) => {
    const response = await t.http.get(`/api/v1/apptoken/grant${query}`, auth);
    if (response.status !== 200) throw new Error(`grant ${query}: ${response.status} ${response.text}`);
    return response.body as { id: number; token: string; expiration: string | null; roles: string[] };
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

  describe('revoke, rotate and delete need the roles of the target token (item 4)', () => {
    it("refuses (403) the admin's Reader-only token acting on the admin's Administrator token", async () => {
      const strong = await grant('?role=Administrator', { session: admin });
      const weak = await grant('?role=Reader', { session: admin });
      const operator = await grant('?role=Operator', { session: admin });
      const revoke = await t.http.post(`/api/v1/apptoken/${strong.id}/revoke`, undefined, { token: weak.token });
      expect(revoke.status).toBe(403);
      expect(revoke.body.message).toMatch(/does not hold role "Administrator"/);
      expect((await t.http.delete(`/api/v1/apptoken/${strong.id}`, { token: weak.token })).status).toBe(403);
      expect((await t.http.post(`/api/v1/apptoken/${strong.id}/rotate`, {}, { token: operator.token })).status).toBe(403);
      expect(await works(strong.token)).toBe(true);
      expect((await t.http.get(`/api/v1/audit?token=${strong.id}`, { session: admin })).body.map((e: any) => e.action)).toEqual(['apptoken.granted']);
    });

    it('lets a token act on tokens whose roles it holds, and on itself', async () => {
      const operator = await grant('?role=Operator,Reader', { session: admin });
      const reader = await grant('?role=Reader', { session: admin });
      expect((await t.http.post(`/api/v1/apptoken/${reader.id}/rotate`, {}, { token: operator.token })).status).toBe(201);
      const another = await grant('?role=Reader', { session: admin });
      expect((await t.http.delete(`/api/v1/apptoken/${another.id}`, { token: operator.token })).status).toBe(204);
      const self = await grant('?role=Reader', { session: admin });
      expect((await t.http.post(`/api/v1/apptoken/${self.id}/revoke`, undefined, { token: self.token })).status).toBe(200);
      // A session and an Administrator token keep their authority over any token they can see.
      const strong = await grant('?role=Administrator', { session: admin });
      const adminToken = await grant('?role=Administrator', { session: admin });
      expect((await t.http.post(`/api/v1/apptoken/${operator.id}/revoke`, undefined, { token: adminToken.token })).status).toBe(200);
      expect((await t.http.post(`/api/v1/apptoken/${strong.id}/revoke`, undefined, { session: admin })).status).toBe(200);
    });
  });
});
