import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { ShutdownState } from '../src/health/shutdown-state.js';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { connect, databaseMode } from './support/database.js';
import { DatabaseOutage } from './support/database-outage.js';

/**
 * Issue 11, the PSU routes: the path PSU 4.5's Grant-PSUAppToken -Identity calls, `lifetimeInDays`, the version
 * and status routes PSU's VS Code extension and load balancers read, and the system-identity grant a public PSU
 * integration setup script makes (run here twice, as its "safe to re-run" promises).
 */

const DAY = 86_400_000;
const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const TOKEN_KEYS = ['id', 'token', 'identity', 'revoked', 'role', 'roles', 'created', 'expiration', 'revokedDate', 'description', 'lastUsed'];

/** What `(Get-Date).AddDays(days).ToString('o')` writes on a machine at UTC+01:00: 7 fractional digits and the offset. */
function powershellRoundTrip(days: number): string {
  const local = new Date(Date.now() + days * DAY + 3_600_000);
  const iso = local.toISOString(); // yyyy-mm-ddThh:mm:ss.fffZ, shifted one hour: the wall clock at +01:00
  return `${iso.slice(0, 23)}4567+01:00`;
}

/** The token JSON PSU returns: these fields with these types (more fields may follow; none of these may change). */
function expectPsuTokenShape(body: any): void {
  for (const key of TOKEN_KEYS) expect(Object.keys(body)).toContain(key);
  expect(Object.keys(body).slice(0, TOKEN_KEYS.length)).toEqual(TOKEN_KEYS);
  expect(Object.keys(body.identity)).toEqual(['id', 'name', 'source', 'role']);
  expect(body).toMatchObject({ id: expect.any(Number), revoked: expect.any(Boolean), role: expect.any(String), roles: expect.any(Array), created: expect.any(String), description: expect.any(String) });
  expect(body.identity).toMatchObject({ id: expect.any(Number), name: expect.any(String), source: expect.any(String), role: expect.any(String) });
}

describe('PSU parity routes', () => {
  let t: TestApp;
  let sql: pg.Client;
  let admin: string;
  let adminToken: string;
  let operator: string;
  let operatorToken: string;
  let svc: { id: number };

  const audit = async (identityId: number, action: string) =>
    ((await t.http.get(`/api/v1/audit?identity=${identityId}&action=${action}&pageSize=100`, { session: admin })).body as Array<{ action: string; detail: any }>);
  const identitiesNamed = async (name: string) =>
    ((await t.http.get(`/api/v1/identity?search=${encodeURIComponent(name)}`, { session: admin })).body as Array<{ id: number; name: string; source: string; roles: string[]; hasPassword: boolean }>).filter(
      (identity) => identity.name.toLowerCase() === name.toLowerCase(),
    );

  beforeAll(async () => {
    t = await startApp();
    sql = await connect(t.db.url);
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    adminToken = (await t.http.get('/api/v1/apptoken/grant', { session: admin })).body.token;
    await t.http.post('/api/v1/identity', { name: 'opal', password: 'opal-password-1', roles: ['Operator'] }, { session: admin });
    operator = await t.http.signin('opal', 'opal-password-1');
    operatorToken = (await t.http.get('/api/v1/apptoken/grant', { session: operator })).body.token;
    svc = (await t.http.post('/api/v1/identity', { name: 'svc-a', source: 'service', roles: ['Reader', 'Operator'] }, { session: admin })).body;
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  describe('GET /api/v1/apptoken/{identityId}/grant (PSU 4.5 Grant-PSUAppToken -Identity)', () => {
    it('answers as GET grant/{identityId} does: same token shape, roles, lifetime and errors; Administrators only', async () => {
      const alias = await t.http.get(`/api/v1/apptoken/${svc.id}/grant?role=Reader&lifespanDays=7&description=psu45`, { session: admin });
      const original = await t.http.get(`/api/v1/apptoken/grant/${svc.id}?role=Reader&lifespanDays=7&description=psu45`, { session: admin });
      expect(alias.status).toBe(200);
      expect(original.status).toBe(200);
      expectPsuTokenShape(alias.body);
      expect(Object.keys(alias.body)).toEqual(Object.keys(original.body));
      for (const body of [alias.body, original.body]) {
        expect(body).toMatchObject({ identity: { id: svc.id, name: 'svc-a', source: 'service' }, roles: ['Reader'], role: 'Reader', description: 'psu45', revoked: false });
        expect(Date.parse(body.expiration) - Date.parse(body.created)).toBeGreaterThan(7 * DAY - 2000);
        expect(Date.parse(body.expiration) - Date.parse(body.created)).toBeLessThanOrEqual(7 * DAY);
      }
      // Roles default to the identity's, as on grant/{identityId}.
      const all = await t.http.get(`/api/v1/apptoken/${svc.id}/grant`, { session: admin });
      expect(all.body.roles).toEqual((await t.http.get(`/api/v1/apptoken/grant/${svc.id}`, { session: admin })).body.roles);
      expect([...all.body.roles].sort()).toEqual(['Operator', 'Reader']);
      // The token works, as svc-a.
      expect((await t.http.get('/api/v1/identity/my', { token: alias.body.token })).body).toMatchObject({ name: 'svc-a', roles: ['Reader'] });
      // The same refusals, each with its code.
      for (const path of [`/api/v1/apptoken/${svc.id}/grant`, `/api/v1/apptoken/grant/${svc.id}`]) {
        expect((await t.http.get(path, { session: operator })).body.code).toBe('ROLE_REQUIRED');
        expect((await t.http.get(path, { token: operatorToken })).status).toBe(403);
        expect((await t.http.get(path)).status).toBe(401);
        expect((await t.http.get(`${path}?role=Administrator`, { session: admin })).status).toBe(403);
      }
      expect((await t.http.get('/api/v1/apptoken/999999/grant', { session: admin })).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
      // An Administrator token's grant through the alias is a child of it, as through grant/{identityId}.
      const child = await t.http.get(`/api/v1/apptoken/${svc.id}/grant?role=Reader`, { token: adminToken });
      expect(child.status).toBe(200);
      const [{ parent_token_id }] = (await sql.query('SELECT parent_token_id FROM app_token WHERE id = $1', [child.body.id])).rows;
      expect(parent_token_id).not.toBeNull();
    });

    it('does not take GET {id}, and answers a non-numeric or out-of-range identityId with the same 400 as grant/{identityId}', async () => {
      const granted = (await t.http.get(`/api/v1/apptoken/${svc.id}/grant?role=Reader`, { session: admin })).body;
      const one = await t.http.get(`/api/v1/apptoken/${granted.id}`, { session: admin });
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id: granted.id, token: null, identity: { name: 'svc-a' } });
      for (const bad of ['abc', '0', '-1', '1.5', '99999999999']) {
        const alias = await t.http.get(`/api/v1/apptoken/${bad}/grant`, { session: admin });
        const original = await t.http.get(`/api/v1/apptoken/grant/${bad}`, { session: admin });
        expect(alias.status).toBe(400);
        expect(alias.body.code).toBe('VALIDATION_FAILED');
        expect(alias.body.message).toBe(`identityId must be a positive whole number, got "${bad}"`);
        expect(alias.body.message).toBe(original.body.message);
      }
    });
  });

  describe('lifetimeInDays, accepted wherever lifespanDays is', () => {
    const days = (body: any) => Math.round((Date.parse(body.expiration) - Date.parse(body.created)) / DAY);

    it('is taken by the GET grant routes (query) and POST grant (body, in any letter case); both names with one value are fine', async () => {
      expect(days((await t.http.get('/api/v1/apptoken/grant?lifetimeInDays=3', { session: admin })).body)).toBe(3);
      expect(days((await t.http.get(`/api/v1/apptoken/grant/${svc.id}?lifetimeInDays=4`, { session: admin })).body)).toBe(4);
      expect(days((await t.http.get(`/api/v1/apptoken/${svc.id}/grant?lifetimeInDays=5`, { session: admin })).body)).toBe(5);
      const post = await t.http.post('/api/v1/apptoken/grant', { LifetimeInDays: 6 }, { session: admin });
      expect(post.status).toBe(201);
      expect(days(post.body)).toBe(6);
      expect(days((await t.http.post('/api/v1/apptoken/grant', { lifetimeindays: 8, identity: { id: svc.id } }, { session: admin })).body)).toBe(8);
      expect(days((await t.http.get('/api/v1/apptoken/grant?lifespanDays=9&lifetimeInDays=9', { session: admin })).body)).toBe(9);
      expect(days((await t.http.post('/api/v1/apptoken/grant', { lifespanDays: 10, lifetimeInDays: 10 }, { session: admin })).body)).toBe(10);
      // A token's child may not outlive it under either name.
      const parent = (await t.http.get('/api/v1/apptoken/grant?lifespanDays=2', { session: admin })).body;
      expect((await t.http.get('/api/v1/apptoken/grant?lifetimeInDays=3', { token: parent.token })).status).toBe(400);
    });

    it('refuses both names with different values (naming both), with expiration, and the values lifespanDays refuses', async () => {
      for (const response of [
        await t.http.get('/api/v1/apptoken/grant?lifespanDays=6&lifetimeInDays=7', { session: admin }),
        await t.http.get(`/api/v1/apptoken/${svc.id}/grant?lifespanDays=6&lifetimeInDays=7`, { session: admin }),
        await t.http.post('/api/v1/apptoken/grant', { lifespanDays: 6, LifetimeInDays: 7 }, { session: admin }),
      ]) {
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('VALIDATION_FAILED');
        expect(response.body.message).toContain('lifespanDays (6)');
        expect(response.body.message).toContain('lifetimeInDays (7)');
      }
      const both = await t.http.get('/api/v1/apptoken/grant?lifetimeInDays=3&expiration=never', { session: admin });
      expect(both.status).toBe(400);
      expect(both.body.message).toMatch(/lifetimeInDays.*not both/);
      for (const bad of ['0', '1.5', 'abc', '36501']) {
        const response = await t.http.get(`/api/v1/apptoken/grant?lifetimeInDays=${bad}`, { session: admin });
        expect(response.status).toBe(400);
        expect(response.body.message).toMatch(/lifetimeInDays/);
      }
      expect((await t.http.post('/api/v1/apptoken/grant', { lifetimeInDays: '5' }, { session: admin })).status).toBe(400);
    });
  });

  describe('GET /api/v1/version', () => {
    it("is public and answers the package's version as a bare JSON string (what PSU's VS Code extension compares), plain text on request", async () => {
      const json = await t.http.get('/api/v1/version');
      expect(json.status).toBe(200);
      expect(json.headers.get('content-type')).toMatch(/^application\/json/);
      expect(json.body).toBe(VERSION);
      expect(json.text).toBe(JSON.stringify(VERSION));
      // axios's default Accept (the extension's client): still the JSON string, which axios parses to a string.
      expect((await t.http.get('/api/v1/version', { headers: { accept: 'application/json, text/plain, */*' } })).body).toBe(VERSION);
      const text = await t.http.get('/api/v1/version', { headers: { accept: 'text/plain' } });
      expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(text.text).toBe(VERSION);
      // The extension sends its token; a public route neither needs nor judges it.
      expect((await t.http.get('/api/v1/version', { token: 'not-a-token' })).body).toBe(VERSION);
    });
  });

  describe('POST /api/v1/apptoken/grant with identity.system (PSU system identity)', () => {
    const ROLE = 'IntegrationPayroll';
    const NAME = 'payroll-integration';

    /**
     * The public PSU integration setup script's HTTP sequence, verbatim in what it sends and reads: create the
     * role (a 4xx on a re-run is caught), look for an unrevoked token of the identity, grant one to the system
     * identity, all with a Bearer admin token.
     */
    async function setupScript(bearer: string) {
      const role = await t.http.post('/api/v1/role', { name: ROLE, description: 'Payroll integration' }, { token: bearer });
      const list = await t.http.get('/api/v1/apptoken', { token: bearer });
      const existing = (list.body as Array<{ revoked: boolean; identity: { name: string } }>).filter((token) => !token.revoked && token.identity.name === NAME);
      const expiration = powershellRoundTrip(30);
      const grant = await t.http.post('/api/v1/apptoken/grant', { identity: { name: NAME, system: true }, role: ROLE, expiration }, { token: bearer });
      return { role, list, existing, expiration, grant };
    }

    it("runs the PSU integration setup script twice with a Bearer admin token: one service identity, two working tokens, audited", async () => {
      const first = await setupScript(adminToken);
      expect(first.role.status).toBe(201);
      expect(first.list.headers.get('x-total-count')).toMatch(/^\d+$/);
      expect(first.existing).toEqual([]);
      expect(first.grant.status).toBe(201);
      expectPsuTokenShape(first.grant.body);
      expect(first.grant.body).toMatchObject({ identity: { name: NAME, source: 'service', role: ROLE }, role: ROLE, roles: [ROLE], revoked: false, revokedDate: null });
      // ToString('o'): 7 fractional digits and an offset; kept to the second, as the JWT holds it.
      expect(Date.parse(first.grant.body.expiration)).toBe(Math.floor(Date.parse(first.expiration) / 1000) * 1000);

      const second = await setupScript(adminToken);
      expect(second.role.status).toBe(409);
      expect(second.list.headers.get('x-total-count')).toMatch(/^\d+$/);
      expect(second.existing.map((token: any) => token.id)).toEqual([first.grant.body.id]);
      expect(second.grant.status).toBe(201);
      expect(second.grant.body.identity.id).toBe(first.grant.body.identity.id);
      expect(second.grant.body.id).not.toBe(first.grant.body.id);

      // One identity, a service identity without a password, holding the role.
      const named = await identitiesNamed(NAME);
      expect(named).toHaveLength(1);
      expect(named[0]).toMatchObject({ id: first.grant.body.identity.id, source: 'service', roles: [ROLE], hasPassword: false });

      // Both tokens work, with the new role in effect (which the admin token itself does not hold).
      for (const grant of [first.grant, second.grant]) {
        expect((await t.http.get('/api/v1/identity/my', { token: grant.body.token })).body).toMatchObject({ name: NAME, roles: [ROLE], authenticatedBy: 'token' });
        const verified = await t.http.get(`/api/v1/apptoken/verify?role=${ROLE}`, { token: grant.body.token });
        expect(verified.status).toBe(200);
        expect(verified.headers.get('x-identity-roles')).toBe(ROLE);
      }

      // Audited as both: the identity created once (by the first run), a grant per run.
      const identityId = first.grant.body.identity.id;
      const created = await audit(identityId, 'identity.created');
      expect(created).toHaveLength(1);
      expect(created[0].detail).toMatchObject({ roles: [ROLE], source: 'service' });
      const granted = await audit(identityId, 'apptoken.granted');
      expect(granted).toHaveLength(2);
      expect(granted.map((event) => event.detail.system)).toEqual([true, true]);
    });

    it("mints the service's own token: not bounded by the admin token it was granted with, nor revoked with it", async () => {
      const setupToken = (await t.http.get('/api/v1/apptoken/grant?role=Administrator', { session: admin })).body;
      const grant = await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'backup-agent', system: true }, role: 'Reader', lifetimeInDays: 30 }, { token: setupToken.token });
      expect(grant.status).toBe(201);
      const [{ parent_token_id }] = (await sql.query('SELECT parent_token_id FROM app_token WHERE id = $1', [grant.body.id])).rows;
      expect(parent_token_id).toBeNull();
      expect((await t.http.post(`/api/v1/apptoken/${setupToken.id}/revoke`, undefined, { session: admin })).status).toBe(200);
      expect((await t.http.get('/api/v1/identity/my', { token: setupToken.token })).status).toBe(401);
      expect((await t.http.get('/api/v1/identity/my', { token: grant.body.token })).body).toMatchObject({ name: 'backup-agent', roles: ['Reader'] });
      // Yet not longer than the token it was made with: a leaked one-day admin token mints nothing lasting.
      const dayToken = (await t.http.get('/api/v1/apptoken/grant?role=Administrator&lifespanDays=1', { session: admin })).body;
      const forever = await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'persist-svc', system: true }, role: 'Administrator', expiration: 'never' }, { token: dayToken.token });
      expect(forever.status).toBe(400);
      expect(forever.body.message).toMatch(/cannot outlive it/);
      const capped = await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'persist-svc', system: true }, role: 'Reader' }, { token: dayToken.token });
      expect(capped.status).toBe(201);
      expect(Date.parse(capped.body.expiration)).toBeLessThanOrEqual(Date.parse(dayToken.expiration));
      // Without system, an admin token's grant to another identity is still its child, bounded by its roles.
      const adminOnly = (await t.http.get('/api/v1/apptoken/grant?role=Administrator', { session: admin })).body;
      expect((await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'backup-agent' }, role: 'Reader' }, { token: adminOnly.token })).status).toBe(403);
    });

    it('grants to an existing service identity as today: its roles must hold the role, roles default to its own', async () => {
      const lacking = await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'svc-a', system: true }, role: 'Administrator' }, { token: adminToken });
      expect(lacking.status).toBe(403);
      expect(lacking.body.code).toBe('ROLE_REQUIRED');
      const defaults = await t.http.post('/api/v1/apptoken/grant', { Identity: { Name: 'SVC-A', System: true } }, { session: admin });
      expect(defaults.status).toBe(201);
      expect(defaults.body.identity).toMatchObject({ id: svc.id, name: 'svc-a' });
      expect([...defaults.body.roles].sort()).toEqual(['Operator', 'Reader']);
      expect(await audit(svc.id, 'identity.created')).toHaveLength(1); // its POST /identity, nothing more
    });

    it('refuses non-Administrators (403), unknown roles (400), a new identity without a role (400), a person (409) and bad references; creates nothing', async () => {
      const refusals: Array<[number, string, { status: number; body: any }]> = [
        [403, 'ROLE_REQUIRED', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'op-bot', system: true }, role: 'Operator' }, { session: operator })],
        [403, 'ROLE_REQUIRED', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'op-bot', system: true }, role: 'Operator' }, { token: operatorToken })],
        [403, 'ROLE_REQUIRED', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'opal', system: true } }, { session: operator })],
        [400, 'VALIDATION_FAILED', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'op-bot', system: true }, role: 'NoSuchRole' }, { token: adminToken })],
        [400, 'VALIDATION_FAILED', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'op-bot', system: true }, roles: ['Reader', 'NoSuchRole'] }, { token: adminToken })],
        [400, 'VALIDATION_FAILED', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'op-bot', system: true } }, { token: adminToken })],
        [400, 'VALIDATION_FAILED', await t.http.post('/api/v1/apptoken/grant', { identity: { name: ' op-bot', system: true }, role: 'Reader' }, { token: adminToken })],
        [400, 'VALIDATION_FAILED', await t.http.post('/api/v1/apptoken/grant', { identity: { id: svc.id, system: true }, role: 'Reader' }, { token: adminToken })],
        [400, 'VALIDATION_FAILED', await t.http.post('/api/v1/apptoken/grant', { identity: { system: true }, role: 'Reader' }, { token: adminToken })],
        [400, 'VALIDATION_FAILED', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'op-bot', system: 'yes' }, role: 'Reader' }, { token: adminToken })],
        [400, 'VALIDATION_FAILED', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'op-bot', system: true }, role: 'Reader', expiration: '2001-01-01T00:00:00.0000000+01:00' }, { token: adminToken })],
        [409, 'CONFLICT', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'opal', system: true }, role: 'Operator' }, { token: adminToken })],
        [404, 'NOT_FOUND', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'op-bot', system: false }, role: 'Reader' }, { token: adminToken })],
        [404, 'NOT_FOUND', await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'op-bot' }, role: 'Reader' }, { token: adminToken })],
      ];
      for (const [status, code, response] of refusals) {
        expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
      }
      expect(refusals[3][2].body.message).toBe('unknown role "NoSuchRole"');
      expect(await identitiesNamed('op-bot')).toEqual([]);
      // A disabled service identity: 409, as any grant to it.
      await t.http.put(`/api/v1/identity/${svc.id}`, { disabled: true }, { session: admin });
      const disabled = await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'svc-a', system: true }, role: 'Reader' }, { token: adminToken });
      await t.http.put(`/api/v1/identity/${svc.id}`, { disabled: false }, { session: admin });
      expect(disabled.status).toBe(409);
    });

    it('creates the identity and its token in one unit of work: a grant that fails while minting leaves no identity', async () => {
      await sql.query(`CREATE FUNCTION psu_parity_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'minting refused for the test'; END $$`);
      await sql.query(`CREATE TRIGGER psu_parity_fail BEFORE INSERT ON app_token FOR EACH ROW WHEN (NEW.description = 'fail-while-minting') EXECUTE FUNCTION psu_parity_fail()`);
      try {
        const failed = await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'half-made', system: true }, role: 'Reader', description: 'fail-while-minting' }, { token: adminToken });
        expect(failed.status).toBe(500);
      } finally {
        await sql.query('DROP TRIGGER psu_parity_fail ON app_token');
        await sql.query('DROP FUNCTION psu_parity_fail()');
      }
      expect(await identitiesNamed('half-made')).toEqual([]);
      const { rows } = await sql.query(`SELECT count(*)::int AS n FROM audit_event WHERE target_identity_name = 'half-made'`);
      expect(rows[0].n).toBe(0);
    });

    it('lets concurrent first-time grants for one name all succeed, with one identity created once', async () => {
      const grants = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          t.http.post('/api/v1/apptoken/grant', { identity: { name: i % 2 === 0 ? 'race-bot' : 'RACE-BOT', system: true }, role: 'Reader', description: `racer ${i}` }, { token: adminToken }),
        ),
      );
      expect(grants.map((grant) => grant.status)).toEqual([201, 201, 201, 201, 201, 201]);
      const ids = new Set(grants.map((grant) => grant.body.identity.id));
      expect(ids.size).toBe(1);
      expect(new Set(grants.map((grant) => grant.body.id)).size).toBe(6);
      expect(await identitiesNamed('race-bot')).toHaveLength(1);
      expect(await audit([...ids][0], 'identity.created')).toHaveLength(1);
      for (const grant of grants) expect((await t.http.get('/api/v1/identity/my', { token: grant.body.token })).body.name).toMatch(/^race-bot$/i);
    });

    it('queues identity.created for the webhooks that want it, in the same transaction, once per identity', async () => {
      // A subscription written directly: the webhook API is another part of issue 11. Port 9 (discard) answers nothing.
      await sql.query(`INSERT INTO webhook (url, events, secret) VALUES ('http://127.0.0.1:9/hook', ARRAY['identity.created'], 'whsec_dGVzdA==')`);
      const first = await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'hooked-bot', system: true }, roles: 'Reader, Operator' }, { token: adminToken });
      const again = await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'hooked-bot', system: true }, role: 'Reader' }, { token: adminToken });
      expect([first.status, again.status]).toEqual([201, 201]);
      const { rows } = await sql.query(`SELECT event_type, payload FROM webhook_delivery WHERE event_type = 'identity.created' ORDER BY id`);
      expect(rows).toHaveLength(1);
      const payload = JSON.parse(rows[0].payload);
      expect(payload).toMatchObject({ type: 'identity.created', data: { identity: { id: first.body.identity.id, name: 'hooked-bot', source: 'service' }, reason: 'system_grant', by: { name: 'admin' } } });
      expect([...payload.data.identity.roles].sort()).toEqual(['Operator', 'Reader']);
      expect(rows[0].payload).not.toContain(first.body.token);
    });

    it('keeps the token list PSU scripts read: X-Total-Count, revoked and identity.name on every item', async () => {
      const list = await t.http.get('/api/v1/apptoken?pageSize=500', { token: adminToken });
      expect(list.status).toBe(200);
      expect(Number(list.headers.get('x-total-count'))).toBe(list.body.length);
      for (const token of list.body) {
        expectPsuTokenShape(token);
        expect(token.token).toBeNull();
      }
    });
  });

  describe('GET /api/v1/status (PSU high availability)', () => {
    it('is public: 200 while ready, 503 while the database is unreachable (server mode) and while shutting down', async () => {
      const own = await startApp();
      const outage = databaseMode() === 'server' ? await DatabaseOutage.of(own.db) : undefined;
      try {
        const ready = await own.http.get('/api/v1/status', { token: 'whatever' });
        expect(ready.status).toBe(200);
        expect(ready.body).toMatchObject({ status: 'ok', database: 'up' });
        expect(Object.keys(ready.body).sort()).toEqual(Object.keys((await own.http.get('/api/v1/ready')).body).sort());
        if (outage) {
          await outage.begin();
          const down = await own.http.get('/api/v1/status');
          expect(down.status).toBe(503);
          expect(down.body).toMatchObject({ code: 'DATABASE_UNAVAILABLE', database: 'down' });
          await outage.end();
        }
        own.app.get(ShutdownState).begin();
        const draining = await own.http.get('/api/v1/status');
        expect(draining.status).toBe(503);
        expect(draining.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 'shutting_down' });
      } finally {
        await outage?.dispose();
        await own.close();
      }
    });
  });
});
