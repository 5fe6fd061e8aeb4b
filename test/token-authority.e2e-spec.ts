import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { connect, databaseMode } from './support/database.js';

/** What a caller authenticated by an app token may do to other tokens (issue 7, items 3 and 4). */
describe('authority of token-authenticated callers', () => {
  let t: TestApp;
  let sql: pg.Client;
  let admin: string;
  /** A second instance on the same database (PostgreSQL server only: embedded PGlite is one process). */
  let second: TestApp | undefined;

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
    if (databaseMode() === 'server') second = await startApp({ db: t.db });
  });
  afterAll(async () => {
    await second?.stop();
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

  describe('tokens granted with a token (item 3)', () => {
    const parentOf = async (id: number) => (await sql.query('SELECT parent_token_id FROM app_token WHERE id = $1', [id])).rows[0].parent_token_id as number | null;

    it('records the parent, and refuses a child that would outlive it; the default lifetime is capped to it', async () => {
      const parent = await grant('?lifespanDays=10', { session: admin });
      const never = await t.http.get('/api/v1/apptoken/grant?expiration=never', { token: parent.token });
      expect(never.status).toBe(400);
      expect(never.body.message).toMatch(/cannot outlive it/);
      expect((await t.http.get('/api/v1/apptoken/grant?lifespanDays=11', { token: parent.token })).status).toBe(400);
      expect((await t.http.post('/api/v1/apptoken/grant', { expiration: '2099-01-01T00:00:00Z' }, { token: parent.token })).status).toBe(400);
      const capped = await grant('', { token: parent.token });
      expect(capped.expiration).toBe(parent.expiration);
      const shorter = await grant('?lifespanDays=2', { token: parent.token });
      expect(Date.parse(shorter.expiration!)).toBeLessThan(Date.parse(parent.expiration!));
      expect(await parentOf(capped.id)).toBe(parent.id);
      expect(await parentOf(parent.id)).toBeNull();
      const audit = await t.http.get(`/api/v1/audit?token=${capped.id}`, { session: admin });
      expect(audit.body[0]).toMatchObject({ action: 'apptoken.granted', detail: { parentTokenId: parent.id } });
      // Rotating the child keeps its parent and its cap.
      const rotated = await t.http.post(`/api/v1/apptoken/${capped.id}/rotate`, {}, { session: admin });
      expect(rotated.status).toBe(201);
      expect(await parentOf(rotated.body.id)).toBe(parent.id);
      expect(Date.parse(rotated.body.expiration)).toBeLessThanOrEqual(Date.parse(parent.expiration!));
    });

    it('gives a child none of the roles its parent lacks, whoever the child is for', async () => {
      const bot = (await t.http.post('/api/v1/identity', { name: 'child-bot', source: 'service', roles: ['Reader', 'Operator'] }, { session: admin })).body;
      const reader = await grant('?role=Reader', { session: admin });
      expect((await t.http.get('/api/v1/apptoken/grant?role=Operator', { token: reader.token })).status).toBe(403);
      expect((await grant('', { token: reader.token })).roles).toEqual(['Reader']);
      const adminOnly = await grant('?role=Administrator', { session: admin });
      expect((await t.http.get(`/api/v1/apptoken/grant/${bot.id}?role=Reader`, { token: adminOnly.token })).status).toBe(403);
      expect((await t.http.get(`/api/v1/apptoken/grant/${bot.id}`, { token: adminOnly.token })).status).toBe(403);
      const wide = await grant('?role=Administrator,Reader', { session: admin });
      expect((await grant(`/${bot.id}`, { token: wide.token })).roles).toEqual(['Reader']);
    });

    it('revokes children and grandchildren with their parent (revoke, rotate, delete), audited, on every instance', async () => {
      {
        for (const end of ['revoke', 'rotate', 'delete'] as const) {
          const parent = await grant('', { session: admin });
          const child = await grant('', { token: parent.token });
          const grandchild = await grant('?role=Reader', { token: child.token });
          // Cached as valid on the other instance (when there is one).
          if (second) expect((await second.http.get('/api/v1/identity/my', { token: grandchild.token })).status).toBe(200);
          const response =
            end === 'revoke'
              ? await t.http.post(`/api/v1/apptoken/${parent.id}/revoke`, undefined, { session: admin })
              : end === 'rotate'
                ? await t.http.post(`/api/v1/apptoken/${parent.id}/rotate`, {}, { session: admin })
                : await t.http.delete(`/api/v1/apptoken/${parent.id}`, { session: admin });
          expect(response.status).toBeLessThan(300);
          for (const token of [child.token, grandchild.token]) expect(await works(token)).toBe(false);
          if (second) {
            const deadline = Date.now() + 2000;
            while ((await second.http.get('/api/v1/identity/my', { token: grandchild.token })).status === 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
            expect((await second.http.get('/api/v1/identity/my', { token: grandchild.token })).status).toBe(401);
          }
          const audit = await t.http.get(`/api/v1/audit?token=${grandchild.id}&action=apptoken.revoked`, { session: admin });
          expect(audit.body).toHaveLength(1);
          expect(audit.body[0]).toMatchObject({ actor: { name: 'admin' }, detail: { withParentTokenId: child.id } });
        }
      }
    });

    describe('a rotation made with a token is a grant by that token (review, item 3)', () => {
      let opr: string;
      beforeAll(async () => {
        await t.http.post('/api/v1/identity', { name: 'opr', password: 'opr-password', roles: ['Operator'] }, { session: admin });
        opr = await t.http.signin('opr', 'opr-password');
      });

      it('never turns a short-lived child into a permanent token by rotating its parent or a sibling', async () => {
        const parent = await grant('?expiration=never', { session: opr });
        const child = await grant('?lifespanDays=1', { token: parent.token });
        // Its parent: refused, since the replacement (the child's child) would be revoked with the parent.
        const viaChild = await t.http.post(`/api/v1/apptoken/${parent.id}/rotate`, {}, { token: child.token });
        expect(viaChild.status).toBe(403);
        expect(viaChild.body.message).toMatch(/granted with/);
        expect(await works(parent.token)).toBe(true);
        // A never-expiring sibling: the replacement is the caller's child, capped to its end, and revoked with it.
        const sibling = await grant('?expiration=never', { session: opr });
        const child2 = await grant('?lifespanDays=1', { token: parent.token });
        const viaCousin = await t.http.post(`/api/v1/apptoken/${sibling.id}/rotate`, {}, { token: child2.token });
        expect(viaCousin.status).toBe(201);
        expect(viaCousin.body.expiration).toBe(child2.expiration);
        expect(await parentOf(viaCousin.body.id)).toBe(child2.id);
        const audit = await t.http.get(`/api/v1/audit?token=${sibling.id}&action=apptoken.rotated`, { session: admin });
        expect(audit.body[0].detail).toMatchObject({ newTokenId: viaCousin.body.id, parentTokenId: child2.id, expiration: child2.expiration });
        expect((await t.http.post(`/api/v1/apptoken/${child2.id}/revoke`, undefined, { session: opr })).status).toBe(200);
        expect(await works(viaCousin.body.token)).toBe(false);
      });

      it('refuses a token rotating an ancestor (the replacement would die with it)', async () => {
        const parent = await grant('?expiration=never', { session: opr });
        const child = await grant('?expiration=never', { token: parent.token });
        const grandchild = await grant('?expiration=never', { token: child.token });
        expect((await t.http.post(`/api/v1/apptoken/${parent.id}/rotate`, {}, { token: grandchild.token })).status).toBe(403);
        const response = await t.http.post(`/api/v1/apptoken/${parent.id}/rotate`, {}, { token: child.token });
        expect(response.status).toBe(403);
        expect(response.body.message).toMatch(/granted with/);
        expect(await works(parent.token)).toBe(true);
      });

      it('records the replacement as a child of the rotating token, so it dies with it', async () => {
        const caller = await grant('?expiration=never', { session: opr });
        const target = await grant('?lifespanDays=5', { session: opr });
        const rotated = await t.http.post(`/api/v1/apptoken/${target.id}/rotate`, {}, { token: caller.token });
        expect(rotated.status).toBe(201);
        expect(await parentOf(rotated.body.id)).toBe(caller.id);
        expect(await works(rotated.body.token)).toBe(true);
        expect((await t.http.post(`/api/v1/apptoken/${caller.id}/revoke`, undefined, { session: opr })).status).toBe(200);
        expect(await works(rotated.body.token)).toBe(false);
      });

      it("refuses an Administrator token rotating a token with a role it lacks (a grant by it could not hold that role)", async () => {
        const adminOnly = await grant('?role=Administrator&expiration=never', { session: admin });
        const reader = await grant('?role=Reader', { session: admin });
        const response = await t.http.post(`/api/v1/apptoken/${reader.id}/rotate`, {}, { token: adminOnly.token });
        expect(response.status).toBe(403);
        expect(response.body.message).toMatch(/"Reader"/);
      });

      it('a token rotating itself keeps its own parent and cap', async () => {
        const parent = await grant('?lifespanDays=3', { session: opr });
        const child = await grant('?lifespanDays=2', { token: parent.token });
        const rotated = await t.http.post(`/api/v1/apptoken/${child.id}/rotate`, {}, { token: child.token });
        expect(rotated.status).toBe(201);
        expect(await parentOf(rotated.body.id)).toBe(parent.id);
        expect(Date.parse(rotated.body.expiration)).toBeLessThanOrEqual(Date.parse(parent.expiration!));
      });
    });

    describe("a child is never worth more than its parent now (review, item 3)", () => {
      const roles = async (app: TestApp, token: string) => {
        const response = await app.http.get('/api/v1/identity/my', { token });
        return response.status === 200 ? [...(response.body.roles as string[])].sort() : response.status;
      };
      const until = async (what: () => Promise<unknown>, expected: unknown) => {
        const deadline = Date.now() + 2000;
        while (JSON.stringify(await what()) !== JSON.stringify(expected) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        return what();
      };

      /** boss (Administrator, Reader, Pay2) with token BP, which grants BC to pay (Reader, Pay2). */
      const bossAndPay = async (suffix: string) => {
        await t.http.post('/api/v1/role', { name: 'Pay2' }, { session: admin });
        const boss = (await t.http.post('/api/v1/identity', { name: `boss-${suffix}`, source: 'service', roles: ['Administrator', 'Reader', 'Pay2'] }, { session: admin })).body;
        const pay = (await t.http.post('/api/v1/identity', { name: `pay-${suffix}`, source: 'service', roles: ['Reader', 'Pay2'] }, { session: admin })).body;
        const bp = await grant(`/${boss.id}`, { session: admin });
        const bc = await grant(`/${pay.id}?lifespanDays=30`, { token: bp.token });
        expect([...bc.roles].sort()).toEqual(['Pay2', 'Reader']);
        expect((await t.http.get('/api/v1/apptoken/verify?role=Pay2', { token: bc.token })).status).toBe(200);
        // Cached as valid on the other instance (when there is one).
        if (second) expect(await roles(second, bc.token)).toEqual(['Pay2', 'Reader']);
        return { boss, bp, bc };
      };

      it("cuts a child's roles to its parent's now, on every instance", async () => {
        const { boss, bc } = await bossAndPay('demoted');
        expect((await t.http.patch(`/api/v1/identity/${boss.id}`, { roles: ['Administrator'] }, { session: admin })).status).toBe(200);
        expect((await t.http.get('/api/v1/apptoken/verify?role=Pay2', { token: bc.token })).status).toBe(403);
        expect(await roles(t, bc.token)).toEqual([]);
        if (second) expect(await until(() => roles(second!, bc.token), [])).toEqual([]);
        expect((await t.http.patch(`/api/v1/identity/${boss.id}`, { roles: ['Administrator', 'Pay2'] }, { session: admin })).status).toBe(200);
        expect(await roles(t, bc.token)).toEqual(['Pay2']);
      });

      it("refuses a child while its parent's identity is disabled, on every instance, and restores it on re-enabling", async () => {
        const { boss, bp, bc } = await bossAndPay('disabled');
        expect((await t.http.patch(`/api/v1/identity/${boss.id}`, { disabled: true }, { session: admin })).status).toBe(200);
        expect((await t.http.get('/api/v1/apptoken/verify', { token: bp.token })).status).toBe(401);
        const refused = await t.http.get('/api/v1/apptoken/verify', { token: bc.token });
        expect(refused.status).toBe(401);
        expect(refused.body.message).toBe('Invalid app token: its parent token is no longer valid');
        expect((await t.http.get('/api/v1/apptoken/grant?lifespanDays=1', { token: bc.token })).status).toBe(401);
        if (second) expect(await until(() => roles(second!, bc.token), 401)).toBe(401);
        // Disabling can be undone, and so can its effect on the children.
        expect((await t.http.patch(`/api/v1/identity/${boss.id}`, { disabled: false }, { session: admin })).status).toBe(200);
        expect((await t.http.get('/api/v1/apptoken/verify?role=Pay2', { token: bc.token })).status).toBe(200);
        if (second) expect(await until(() => roles(second!, bc.token), ['Pay2', 'Reader'])).toEqual(['Pay2', 'Reader']);
      });

      it('applies the whole chain: a grandchild loses what its grandparent loses', async () => {
        const boss = (await t.http.post('/api/v1/identity', { name: 'boss3', source: 'service', roles: ['Operator', 'Reader'] }, { session: admin })).body;
        const top = await grant(`/${boss.id}`, { session: admin });
        const child = await grant('', { token: top.token });
        const grandchild = await grant('', { token: child.token });
        expect(await roles(t, grandchild.token)).toEqual(['Operator', 'Reader']);
        await t.http.patch(`/api/v1/identity/${boss.id}`, { roles: ['Reader'] }, { session: admin });
        expect(await roles(t, grandchild.token)).toEqual(['Reader']);
        expect((await t.http.get('/api/v1/apptoken/verify?role=Operator', { token: grandchild.token })).status).toBe(403);
        // A grant made with the grandchild now holds only what the chain allows.
        expect((await t.http.get('/api/v1/apptoken/grant?role=Operator', { token: grandchild.token })).status).toBe(403);
        // The top token revoked behind the service's back (no cascade): its descendants are refused all the same.
        if (databaseMode() !== 'server') return;
        await sql.query('UPDATE app_token SET revoked_at = now() WHERE id = $1', [top.id]);
        await sql.query("SELECT pg_notify('apptoken_invalidation', 't:' || hash) FROM app_token WHERE id = $1", [top.id]);
        expect(await until(() => roles(t, grandchild.token), 401)).toBe(401);
      });

      it('refuses chains deeper than 16 tokens, at grant time and at use', async () => {
        const root = await grant('?expiration=never', { session: admin });
        let last = root;
        for (let depth = 1; depth <= 16; depth++) last = await grant('', { token: last.token });
        expect(await works(last.token)).toBe(true);
        const deeper = await t.http.get('/api/v1/apptoken/grant', { token: last.token });
        expect(deeper.status).toBe(400);
        expect(deeper.body.message).toMatch(/at most 16/);
        // A chain made longer (here: a loop) behind the service's back is refused, not followed forever.
        if (databaseMode() !== 'server') return;
        await sql.query('UPDATE app_token SET parent_token_id = $2 WHERE id = $1', [root.id, last.id]);
        await sql.query("SELECT pg_notify('apptoken_invalidation', 't:' || hash) FROM app_token WHERE id = $1", [root.id]);
        const deadline = Date.now() + 2000;
        while ((await works(last.token)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(await works(last.token)).toBe(false);
        expect(await works(root.token)).toBe(false);
      });
    });

    it("removes the children (for other identities too) of a deleted identity's tokens", async () => {
      const boss = (await t.http.post('/api/v1/identity', { name: 'boss', source: 'service', roles: ['Administrator', 'Reader'] }, { session: admin })).body;
      const bot = (await t.http.post('/api/v1/identity', { name: 'boss-bot', source: 'service', roles: ['Reader'] }, { session: admin })).body;
      const bossToken = await grant(`/${boss.id}`, { session: admin });
      const botToken = await grant(`/${bot.id}`, { token: bossToken.token });
      expect(await works(botToken.token)).toBe(true);
      expect((await t.http.delete(`/api/v1/identity/${boss.id}`, { session: admin })).status).toBe(204);
      expect(await works(botToken.token)).toBe(false);
      // Gone with its parent (ON DELETE CASCADE), never orphaned into a root token.
      expect((await t.http.get(`/api/v1/apptoken/${botToken.id}`, { session: admin })).status).toBe(404);
    });
  });
});
