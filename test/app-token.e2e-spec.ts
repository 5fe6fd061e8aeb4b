import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { AppTokenHousekeepingService } from '../src/app-token/app-token-housekeeping.service.js';
import { CLAIM } from '../src/app-token/token-codec.js';
import { LastUsedTracker } from '../src/app-token/last-used.tracker.js';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { connect, databaseMode } from './support/database.js';
import { decodeHeader, decodePayload, resign, signRaw } from './support/tokens.js';

const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TOKEN_KEYS = ['id', 'token', 'identity', 'revoked', 'role', 'roles', 'created', 'expiration', 'revokedDate', 'description', 'lastUsed', 'lastUsedAddress'];

describe('app tokens', () => {
  let t: TestApp;
  let sql: pg.Client;
  let admin: string;
  let adam: { id: number };
  let operator: string;
  let reader: string;

  beforeAll(async () => {
    t = await startApp();
    sql = await connect(t.db.url);
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    adam = (await t.http.post('/api/v1/identity', { name: 'adam@ironmansoftware.onmicrosoft.com', password: 'adam-password', roles: ['Operator'] }, { session: admin })).body;
    await t.http.post('/api/v1/identity', { name: 'reader1', password: 'reader1-password', roles: ['Reader'] }, { session: admin });
    operator = await t.http.signin('adam@ironmansoftware.onmicrosoft.com', 'adam-password');
    reader = await t.http.signin('reader1', 'reader1-password');
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  describe("the seed page's PowerShell flows", () => {
    it('grants the signed-in admin a token with all its roles, shaped as PSU returns it', async () => {
      const response = await t.http.get('/api/v1/apptoken/grant', { session: admin });
      expect(response.status).toBe(200);
      const body = response.body;
      expect(Object.keys(body)).toEqual(TOKEN_KEYS);
      expect(body).toMatchObject({
        identity: { id: 1, name: 'admin', source: 'local', role: 'Administrator, Operator, Reader' },
        revoked: false,
        role: 'Administrator, Operator, Reader',
        roles: ['Administrator', 'Operator', 'Reader'],
        revokedDate: null,
        lastUsed: null,
      });
      expect(Object.keys(body.identity)).toEqual(['id', 'name', 'source', 'role']);
      // PSU's default lifetime: one year.
      expect(Date.parse(body.expiration) - Date.parse(body.created)).toBeGreaterThan(365 * DAY - 2000);
      expect(Date.parse(body.expiration) - Date.parse(body.created)).toBeLessThanOrEqual(365 * DAY);
      const payload = decodePayload(body.token);
      expect(decodeHeader(body.token)).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(Object.keys(payload)).toEqual([CLAIM.name, CLAIM.hash, 'sub', CLAIM.role, 'nbf', 'exp', 'iss', 'aud']);
      expect(payload).toMatchObject({
        [CLAIM.name]: 'admin',
        sub: 'PowerShellUniversal',
        [CLAIM.role]: ['Administrator', 'Operator', 'Reader'],
        iss: 'IronmanSoftware',
        aud: 'PowerShellUniversal',
      });
      expect(payload[CLAIM.hash]).toMatch(/^[0-9a-f-]{36}$/);
      expect(payload.nbf).toBe(Math.floor(Date.parse(body.created) / 1000));
      expect((payload.exp as number) * 1000).toBe(Date.parse(body.expiration));
      // And it works, as the admin.
      const my = await t.http.get('/api/v1/identity/my', { token: body.token });
      expect(my.body).toMatchObject({ name: 'admin', authenticatedBy: 'token', tokenId: body.id, roles: ['Administrator', 'Operator', 'Reader'] });
    });

    it('grants identity 2 an Operator token (GET .../grant/2), one role as a string claim', async () => {
      const response = await t.http.get(`/api/v1/apptoken/grant/${adam.id}`, { session: admin });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        identity: { id: adam.id, name: 'adam@ironmansoftware.onmicrosoft.com', source: 'local', role: 'Operator' },
        role: 'Operator',
        roles: ['Operator'],
        revoked: false,
      });
      expect(decodePayload(response.body.token)[CLAIM.role]).toBe('Operator');
      const my = await t.http.get('/api/v1/identity/my', { token: response.body.token });
      expect(my.body).toMatchObject({ name: 'adam@ironmansoftware.onmicrosoft.com', roles: ['Operator'] });
      // An Operator token may not manage identities.
      expect((await t.http.post('/api/v1/identity', { name: 'x', password: 'password-x' }, { token: response.body.token })).status).toBe(403);
    });
  });

  describe('grants', () => {
    it('shows the token value only in the response that creates it (enhanced security)', async () => {
      const granted = (await t.http.get('/api/v1/apptoken/grant', { session: operator })).body;
      expect(granted.token).toMatch(/^eyJ/);
      const read = await t.http.get(`/api/v1/apptoken/${granted.id}`, { session: operator });
      expect(read.body.token).toBeNull();
      const list = await t.http.get('/api/v1/apptoken', { session: operator });
      expect(list.body.every((token: any) => token.token === null)).toBe(true);
      const { rows } = await sql.query('SELECT token, length(token_sha256) AS digest FROM app_token WHERE id = $1', [granted.id]);
      expect(rows[0]).toEqual({ token: null, digest: 32 });
    });

    it('grants a subset of roles, by repeated or comma-separated role, and refuses a role the caller does not hold (403)', async () => {
      const repeated = await t.http.get('/api/v1/apptoken/grant?role=Operator&role=Reader', { session: admin });
      expect(repeated.body.roles).toEqual(['Operator', 'Reader']);
      const comma = await t.http.get('/api/v1/apptoken/grant?role=reader', { session: admin });
      expect(comma.body.roles).toEqual(['Reader']);
      const escalate = await t.http.get('/api/v1/apptoken/grant?role=Administrator', { session: operator });
      expect(escalate.status).toBe(403);
      expect(escalate.body.message).toBe('You do not hold role "Administrator"');
      expect((await t.http.get('/api/v1/apptoken/grant?role=Operator', { session: reader })).status).toBe(403);
      // Through a Reader-only token, the admin cannot mint itself an Administrator token.
      const readerOnly = comma.body.token;
      const viaToken = await t.http.get('/api/v1/apptoken/grant?role=Administrator', { token: readerOnly });
      expect(viaToken.status).toBe(403);
      const defaultViaToken = await t.http.get('/api/v1/apptoken/grant', { token: readerOnly });
      expect(defaultViaToken.body.roles).toEqual(['Reader']);
    });

    it('lets a Reader grant itself a token, but not others; only Administrators grant to other identities', async () => {
      const own = await t.http.get('/api/v1/apptoken/grant', { session: reader });
      expect(own.status).toBe(200);
      expect(own.body.roles).toEqual(['Reader']);
      expect((await t.http.get('/api/v1/apptoken/grant/1', { session: reader })).status).toBe(403);
      expect((await t.http.get('/api/v1/apptoken/grant/1', { session: operator })).status).toBe(403);
      const post = await t.http.post('/api/v1/apptoken/grant', { identity: { id: 1 } }, { session: operator });
      expect(post.status).toBe(403);
      const self = await t.http.post('/api/v1/apptoken/grant', { Identity: { Name: 'ADAM@ironmansoftware.onmicrosoft.com' }, Role: 'Operator', Description: 'nightly' }, { session: operator });
      expect(self.status).toBe(201);
      expect(self.body).toMatchObject({ roles: ['Operator'], description: 'nightly' });
    });

    it('refuses, as an Administrator, a role the other identity does not hold, and an identity that does not exist', async () => {
      const response = await t.http.post('/api/v1/apptoken/grant', { identity: { id: adam.id }, roles: ['Administrator'] }, { session: admin });
      expect(response.status).toBe(403);
      expect(response.body.message).toMatch(/does not hold role "Administrator"/);
      expect((await t.http.get('/api/v1/apptoken/grant/9999', { session: admin })).status).toBe(404);
      expect((await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'nobody' } }, { session: admin })).status).toBe(404);
    });

    it('takes a lifetime as lifespanDays, an ISO 8601 expiration (PowerShell 7, 7 fractional digits), a PowerShell 5.1 date, or never', async () => {
      const days = await t.http.get('/api/v1/apptoken/grant?lifespanDays=7', { session: admin });
      expect(Date.parse(days.body.expiration) - Date.parse(days.body.created)).toBeGreaterThan(7 * DAY - 2000);
      const iso = await t.http.post('/api/v1/apptoken/grant', { expiration: '2031-05-28T17:24:25.1234567+02:00' }, { session: admin });
      expect(iso.body.expiration).toBe('2031-05-28T15:24:25.000Z');
      const ps51 = await t.http.post('/api/v1/apptoken/grant', { Expiration: { value: '/Date(1969401600000)/', DisplayHint: 2, DateTime: 'Sunday, May 28, 2032' } }, { session: admin });
      expect(ps51.status).toBe(201);
      expect(ps51.body.expiration).toBe(new Date(1969401600000).toISOString());
      const never = await t.http.get('/api/v1/apptoken/grant?expiration=never', { session: admin });
      expect(never.body.expiration).toBeNull();
      expect(decodePayload(never.body.token)).not.toHaveProperty('exp');
      expect((await t.http.get('/api/v1/identity/my', { token: never.body.token })).status).toBe(200);
      const far = await t.http.get('/api/v1/apptoken/grant?expiration=2200-01-01T00:00:00Z', { session: admin });
      expect(far.body.expiration).toBe('2200-01-01T00:00:00.000Z');
      expect(decodePayload(far.body.token).exp).toBe(Date.UTC(2200, 0, 1) / 1000);
      expect((await t.http.get('/api/v1/identity/my', { token: far.body.token })).status).toBe(200);
    });

    it('refuses bad lifetimes with 400', async () => {
      for (const query of ['lifespanDays=0', 'lifespanDays=1.5', 'lifespanDays=abc', 'expiration=2001-01-01', 'expiration=tomorrow', 'lifespanDays=3&expiration=never']) {
        const response = await t.http.get(`/api/v1/apptoken/grant?${query}`, { session: admin });
        expect(`${query} ${response.status}`).toBe(`${query} 400`);
      }
      expect((await t.http.post('/api/v1/apptoken/grant', { expiration: { value: '/Date(1969401600000)/', Evil: 1 } }, { session: admin })).status).toBe(400);
      expect((await t.http.post('/api/v1/apptoken/grant', { rolez: ['Reader'] }, { session: admin })).status).toBe(400);
    });
  });

  describe('bearer authentication', () => {
    let token: string;
    beforeAll(async () => {
      token = (await t.http.get('/api/v1/apptoken/grant', { session: operator })).body.token;
    });

    it.each([
      ['tampered payload', () => {
        const [h, , s] = token.split('.');
        return `${h}.${Buffer.from(JSON.stringify({ ...decodePayload(token), [CLAIM.role]: 'Administrator' })).toString('base64url')}.${s}`;
      }],
      ['alg none', () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${token.split('.')[1]}.`],
      ['alg none with a signature', () => signRaw({ alg: 'none', typ: 'JWT' }, decodePayload(token), TEST_SIGNING_KEY)],
      ['HS512', () => signRaw({ alg: 'HS512', typ: 'JWT' }, decodePayload(token), TEST_SIGNING_KEY)],
      ['wrong audience', () => resign(token, { aud: 'Grafana' }, TEST_SIGNING_KEY)],
      ['wrong issuer', () => resign(token, { iss: 'Someone' }, TEST_SIGNING_KEY)],
      ['another key', () => resign(token, {}, 'some-other-key-of-at-least-32-bytes!!')],
      ['a valid signature over other bytes with the same hash (stored SHA-256 differs)', () => resign(token, { exp: (decodePayload(token).exp as number) - 1 }, TEST_SIGNING_KEY)],
      ['expired exp', () => resign(token, { exp: Math.floor(Date.now() / 1000) - 3600 }, TEST_SIGNING_KEY)],
      ['garbage', () => 'not-a-token'],
      ['oversized', () => `${token}${'A'.repeat(9000)}`],
    ])('refuses a token with %s (401)', async (_what, make) => {
      const response = await t.http.get('/api/v1/identity/my', { token: make() });
      expect(response.status).toBe(401);
      expect(response.body.message).toMatch(/^Invalid app token/);
    });

    it('accepts the genuine token, and never reads a token from the URL', async () => {
      expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(200);
      for (const name of ['token', 'access_token', 'apptoken']) {
        expect((await t.http.get(`/api/v1/identity/my?${name}=${token}`)).status).toBe(401);
      }
      expect((await t.http.get('/api/v1/identity/my', { headers: { authorization: `Basic ${token}` } })).status).toBe(401);
    });

    it('refuses a token once its expiration has passed', async () => {
      const soon = new Date(Date.now() + 1500).toISOString();
      const short = await t.http.get(`/api/v1/apptoken/grant?expiration=${encodeURIComponent(soon)}`, { session: operator });
      expect((await t.http.get('/api/v1/identity/my', { token: short.body.token })).status).toBe(200);
      await sleep(2000);
      const expired = await t.http.get('/api/v1/identity/my', { token: short.body.token });
      expect(expired.status).toBe(401);
      expect(expired.body.message).toBe('Invalid app token: expired');
    });

    it('costs no database round trip for a cached valid token', async () => {
      const dataSource = t.app.get(DataSource);
      const original = dataSource.query.bind(dataSource);
      const lookups: string[] = [];
      dataSource.query = ((query: string, ...rest: unknown[]) => {
        if (/FROM app_token t|FROM identity i/.test(query)) lookups.push(query);
        return (original as (...args: unknown[]) => Promise<unknown>)(query, ...rest);
      }) as typeof dataSource.query;
      try {
        await t.http.get('/api/v1/role', { token });
        const afterFirst = lookups.length;
        for (let i = 0; i < 20; i++) expect((await t.http.get('/api/v1/role', { token })).status).toBe(200);
        expect(lookups.length).toBe(afterFirst);
      } finally {
        dataSource.query = original;
      }
    });

    it('does not "sign out" a token: it tells the caller to revoke it', async () => {
      const response = await t.http.post('/api/v1/signout', undefined, { token });
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(/revok/);
      expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(200);
    });

    it('exempts bearer requests from the cross-origin check', async () => {
      const response = await t.http.post('/api/v1/apptoken/grant', {}, { token, headers: { origin: 'https://elsewhere.example' } });
      expect(response.status).toBe(201);
    });
  });

  describe('owners and Administrators', () => {
    let adminToken: { id: number; token: string };
    let operatorToken: { id: number; token: string };
    beforeAll(async () => {
      adminToken = (await t.http.get('/api/v1/apptoken/grant', { session: admin })).body;
      operatorToken = (await t.http.get('/api/v1/apptoken/grant', { session: operator })).body;
    });

    it("answers 404 to anyone but the owner or an Administrator, for every operation on another's token", async () => {
      for (const session of [operator, reader]) {
        expect((await t.http.get(`/api/v1/apptoken/${adminToken.id}`, { session })).status).toBe(404);
        expect((await t.http.post(`/api/v1/apptoken/${adminToken.id}/revoke`, undefined, { session })).status).toBe(404);
        expect((await t.http.delete(`/api/v1/apptoken/${adminToken.id}`, { session })).status).toBe(404);
      }
      expect((await t.http.post(`/api/v1/apptoken/${adminToken.id}/rotate`, {}, { session: operator })).status).toBe(404);
      expect((await t.http.get(`/api/v1/apptoken/${operatorToken.id}`, { session: admin })).status).toBe(200);
      expect((await t.http.get(`/api/v1/apptoken/${operatorToken.id}`, { session: operator })).status).toBe(200);
      expect((await t.http.get('/api/v1/identity/my', { token: adminToken.token })).status).toBe(200);
    });

    it('lists all tokens to Administrators and only their own to others, newest first, paged', async () => {
      const all = await t.http.get('/api/v1/apptoken?pageSize=500', { session: admin });
      const own = await t.http.get('/api/v1/apptoken?pageSize=500', { session: operator });
      expect(all.body.some((token: any) => token.identity.name === 'reader1')).toBe(true);
      expect(own.body.every((token: any) => token.identity.name === 'adam@ironmansoftware.onmicrosoft.com')).toBe(true);
      expect(Number(all.headers.get('x-total-count'))).toBe(all.body.length);
      expect(all.body.map((token: any) => token.id)).toEqual([...all.body.map((token: any) => token.id)].sort((a: number, b: number) => b - a));
      const page = await t.http.get('/api/v1/apptoken?page=2&pageSize=2', { session: admin });
      expect(page.body.map((token: any) => token.id)).toEqual(all.body.slice(2, 4).map((token: any) => token.id));
      const byName = await t.http.get('/api/v1/apptoken?identity=reader1', { session: admin });
      expect(byName.body.length).toBeGreaterThan(0);
      expect(byName.body.every((token: any) => token.identity.name === 'reader1')).toBe(true);
      const byId = await t.http.get(`/api/v1/apptoken?identity=${adam.id}`, { session: admin });
      expect(byId.body.every((token: any) => token.identity.id === adam.id)).toBe(true);
      const searched = await t.http.get('/api/v1/apptoken?search=nightly', { session: admin });
      expect(searched.body.map((token: any) => token.description)).toEqual(['nightly']);
      expect((await t.http.get('/api/v1/apptoken?pageSize=501', { session: admin })).status).toBe(400);
      expect((await t.http.get('/api/v1/apptoken?revoked=maybe', { session: admin })).status).toBe(400);
    });

    it('shows a token in a list exactly as on its own, and counts all pages even past the last one', async () => {
      const granted = (await t.http.post('/api/v1/apptoken/grant', { identity: { name: 'reader1' }, description: '100%_match', lifespanDays: 7 }, { session: admin })).body;
      const listed = await t.http.get('/api/v1/apptoken?search=100%25_', { session: admin });
      expect(listed.body).toEqual([{ ...granted, token: null }]);
      expect(listed.headers.get('x-total-count')).toBe('1');
      expect((await t.http.get(`/api/v1/apptoken/${granted.id}`, { session: admin })).body).toEqual({ ...granted, token: null });
      // The identity's own roles beside the token's, both in PSU's order.
      expect(granted.identity).toEqual({ id: granted.identity.id, name: 'reader1', source: expect.any(String), role: expect.any(String) });
      const all = await t.http.get('/api/v1/apptoken?pageSize=500', { session: admin });
      const past = await t.http.get('/api/v1/apptoken?page=1000&pageSize=500', { session: admin });
      expect(past.body).toEqual([]);
      expect(past.headers.get('x-total-count')).toBe(String(all.body.length));
      const none = await t.http.get('/api/v1/apptoken?search=no-such-description-anywhere', { session: admin });
      expect(none.body).toEqual([]);
      expect(none.headers.get('x-total-count')).toBe('0');
      await t.http.delete(`/api/v1/apptoken/${granted.id}`, { session: admin });
    });
  });

  describe('sorting the list', () => {
    // Four tokens of one identity, with a tie on created (broken by id) and nulls in expiration and lastUsed.
    let ids: { beta: number; alpha: number; gamma: number; delta: number };
    beforeAll(async () => {
      const bot = (await t.http.post('/api/v1/identity', { name: 'Sort-Bot', source: 'service', roles: ['Reader'] }, { session: admin })).body;
      const grant = async (description: string, lifetime: object) =>
        (await t.http.post('/api/v1/apptoken/grant', { identity: { id: bot.id }, description, ...lifetime }, { session: admin })).body.id as number;
      ids = {
        beta: await grant('beta', { lifespanDays: 30 }),
        alpha: await grant('Alpha', { expiration: 'never' }),
        gamma: await grant('gamma', { lifespanDays: 90 }),
        delta: await grant('delta', { lifespanDays: 10 }),
      };
      const set = (id: number, created: string, lastUsed: string | null) =>
        sql.query('UPDATE app_token SET created_at = $2, last_used_at = $3 WHERE id = $1', [id, created, lastUsed]);
      await set(ids.beta, '2026-01-01T00:00:00Z', '2026-03-02T00:00:00Z');
      await set(ids.alpha, '2026-01-02T00:00:00Z', null);
      await set(ids.gamma, '2026-01-02T00:00:00Z', '2026-03-01T00:00:00Z');
      await set(ids.delta, '2026-01-03T00:00:00Z', null);
    });
    const order = async (query: string) => {
      const response = await t.http.get(`/api/v1/apptoken?identity=sort-bot&${query}`, { session: admin });
      expect(response.status).toBe(200);
      return response.body.map((token: any) => token.id);
    };

    it('orders by created, newest first, by default; ties by id in the same direction', async () => {
      const { alpha, beta, gamma, delta } = ids;
      expect(await order('')).toEqual([delta, gamma, alpha, beta]);
      expect(await order('sort=created&order=desc')).toEqual([delta, gamma, alpha, beta]);
      expect(await order('sort=created&order=asc')).toEqual([beta, alpha, gamma, delta]);
    });

    it('orders by expiration (never counts as latest), last use (never used as earliest), description and identity', async () => {
      const { alpha, beta, gamma, delta } = ids;
      expect(await order('sort=expiration&order=asc')).toEqual([delta, beta, gamma, alpha]);
      expect(await order('sort=expiration&order=desc')).toEqual([alpha, gamma, beta, delta]);
      expect(await order('sort=lastUsed&order=desc')).toEqual([beta, gamma, delta, alpha]);
      expect(await order('sort=lastUsed&order=asc')).toEqual([alpha, delta, gamma, beta]);
      expect(await order('sort=description&order=asc')).toEqual([alpha, beta, delta, gamma]);
      expect(await order('sort=description&order=desc')).toEqual([gamma, delta, beta, alpha]);
      const byIdentity = (await t.http.get('/api/v1/apptoken?sort=identity&order=asc&pageSize=500', { session: admin })).body;
      const names = byIdentity.map((token: any) => token.identity.name.toLowerCase());
      expect(new Set(names).size).toBeGreaterThan(2);
      expect(names).toEqual([...names].sort());
      // Within one identity, ties go by id.
      const bots = byIdentity.filter((token: any) => token.identity.name === 'Sort-Bot').map((token: any) => token.id);
      expect(bots).toEqual([alpha, beta, gamma, delta].sort((a, b) => a - b));
    });

    it('sorts before paging, and refuses an unknown sort or order (400)', async () => {
      const { alpha, beta, gamma, delta } = ids;
      expect(await order('sort=expiration&order=asc&page=2&pageSize=2')).toEqual([gamma, alpha]);
      expect(await order('sort=lastUsed&order=desc&page=2&pageSize=1')).toEqual([gamma]);
      expect(await order('sort=created&order=asc&page=1&pageSize=3')).toEqual([beta, alpha, gamma]);
      expect(await order('sort=created&order=asc&page=2&pageSize=3')).toEqual([delta]);
      for (const query of ['sort=id', 'sort=Created', 'sort=token.id', 'order=up', 'order=ASC', 'sort=', 'sort=created&sort=identity']) {
        const response = await t.http.get(`/api/v1/apptoken?${query}`, { session: admin });
        expect(`${query} ${response.status}`).toBe(`${query} 400`);
      }
      expect((await t.http.get('/api/v1/apptoken?sort=id', { session: admin })).body.message).toEqual(
        expect.stringContaining('sort must be one of created, expiration, lastUsed, identity, description'),
      );
    });
  });

  describe('revoke, rotate, delete', () => {
    it('revokes at once and idempotently, keeping the first revoked date and auditing once', async () => {
      const granted = (await t.http.get('/api/v1/apptoken/grant', { session: operator })).body;
      expect((await t.http.get('/api/v1/identity/my', { token: granted.token })).status).toBe(200);
      const first = await t.http.post(`/api/v1/apptoken/${granted.id}/revoke`, undefined, { session: operator });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ revoked: true, token: null });
      expect((await t.http.get('/api/v1/identity/my', { token: granted.token })).body.message).toBe('Invalid app token: revoked');
      await sleep(20);
      const second = await t.http.post(`/api/v1/apptoken/${granted.id}/revoke`, undefined, { session: admin });
      expect(second.body.revokedDate).toBe(first.body.revokedDate);
      const audit = await t.http.get(`/api/v1/audit?token=${granted.id}&action=apptoken.revoked`, { session: admin });
      expect(audit.body).toHaveLength(1);
      expect(audit.body[0]).toMatchObject({ actor: { name: 'adam@ironmansoftware.onmicrosoft.com' }, targetIdentity: { id: adam.id }, targetTokenId: granted.id, address: '127.0.0.1' });
      const revokedList = await t.http.get('/api/v1/apptoken?revoked=true', { session: operator });
      expect(revokedList.body.map((token: any) => token.id)).toContain(granted.id);
      expect((await t.http.get('/api/v1/apptoken?revoked=false', { session: operator })).body.map((token: any) => token.id)).not.toContain(granted.id);
    });

    it('rotates: a new token with the same identity, roles and lifetime, the old one refused at once', async () => {
      const old = (await t.http.get('/api/v1/apptoken/grant?lifespanDays=10&description=deploy', { session: operator })).body;
      const rotated = await t.http.post(`/api/v1/apptoken/${old.id}/rotate`, undefined, { session: operator });
      expect(rotated.status).toBe(201);
      expect(rotated.body).toMatchObject({ identity: { id: adam.id }, roles: ['Operator'], description: 'deploy', revoked: false });
      expect(rotated.body.token).toMatch(/^eyJ/);
      expect(rotated.body.id).not.toBe(old.id);
      const lifetime = (dto: any) => Date.parse(dto.expiration) - Date.parse(dto.created);
      expect(Math.abs(lifetime(rotated.body) - lifetime(old))).toBeLessThan(2000);
      expect((await t.http.get('/api/v1/identity/my', { token: old.token })).status).toBe(401);
      expect((await t.http.get('/api/v1/identity/my', { token: rotated.body.token })).status).toBe(200);
      const audit = await t.http.get(`/api/v1/audit?token=${old.id}&action=apptoken.rotated`, { session: admin });
      expect(audit.body[0].detail).toMatchObject({ newTokenId: rotated.body.id, graceSeconds: 0 });
      expect((await t.http.post(`/api/v1/apptoken/${old.id}/rotate`, {}, { session: operator })).status).toBe(409);
    });

    it('keeps the old token working through graceSeconds, then refuses it', async () => {
      const old = (await t.http.get('/api/v1/apptoken/grant', { session: admin })).body;
      const rotated = await t.http.post(`/api/v1/apptoken/${old.id}/rotate`, { GraceSeconds: 2 }, { session: admin });
      expect(rotated.status).toBe(201);
      const during = await t.http.get(`/api/v1/apptoken/${old.id}`, { session: admin });
      expect(during.body.revoked).toBe(false);
      expect(Date.parse(during.body.revokedDate)).toBeGreaterThan(Date.now());
      expect((await t.http.get('/api/v1/identity/my', { token: old.token })).status).toBe(200);
      await sleep(2300);
      expect((await t.http.get('/api/v1/identity/my', { token: old.token })).status).toBe(401);
      expect((await t.http.get(`/api/v1/apptoken/${old.id}`, { session: admin })).body.revoked).toBe(true);
      expect((await t.http.post(`/api/v1/apptoken/${old.id}/rotate`, { graceSeconds: -1 }, { session: admin })).status).toBe(400);
    });

    it('does not let a Reader rotate (403), even its own token', async () => {
      const own = (await t.http.get('/api/v1/apptoken/grant', { session: reader })).body;
      expect((await t.http.post(`/api/v1/apptoken/${own.id}/rotate`, {}, { session: reader })).status).toBe(403);
      expect((await t.http.post(`/api/v1/apptoken/${own.id}/revoke`, undefined, { session: reader })).status).toBe(200);
    });

    it('deletes: revoked and removed', async () => {
      const granted = (await t.http.get('/api/v1/apptoken/grant', { session: reader })).body;
      expect((await t.http.get('/api/v1/identity/my', { token: granted.token })).status).toBe(200);
      expect((await t.http.delete(`/api/v1/apptoken/${granted.id}`, { session: reader })).status).toBe(204);
      expect((await t.http.get('/api/v1/identity/my', { token: granted.token })).status).toBe(401);
      expect((await t.http.get(`/api/v1/apptoken/${granted.id}`, { session: admin })).status).toBe(404);
      const audit = await t.http.get(`/api/v1/audit?token=${granted.id}`, { session: admin });
      expect(audit.body.map((e: any) => e.action)).toEqual(['apptoken.deleted', 'apptoken.granted']);
    });
  });

  describe('demotion, disabling and deletion of the identity', () => {
    it('applies a demotion to existing tokens on their next request', async () => {
      const id = (await t.http.post('/api/v1/identity', { name: 'demote-me', password: 'demote-me-pass', roles: ['Operator', 'Reader'] }, { session: admin })).body.id;
      const token = (await t.http.get(`/api/v1/apptoken/grant/${id}`, { session: admin })).body;
      expect((await t.http.get('/api/v1/identity/my', { token: token.token })).body.roles).toEqual(['Operator', 'Reader']);
      await t.http.patch(`/api/v1/identity/${id}`, { roles: ['Reader'] }, { session: admin });
      expect((await t.http.get('/api/v1/identity/my', { token: token.token })).body.roles).toEqual(['Reader']);
      // Rotation needs Operator, which the token no longer carries in effect.
      expect((await t.http.post(`/api/v1/apptoken/${token.id}/rotate`, {}, { token: token.token })).status).toBe(403);
      // Promoting again does not add roles the token was never granted.
      await t.http.patch(`/api/v1/identity/${id}`, { roles: ['Operator', 'Reader', 'Administrator'] }, { session: admin });
      expect((await t.http.get('/api/v1/identity/my', { token: token.token })).body.roles).toEqual(['Operator', 'Reader']);
    });

    it('refuses the tokens of a disabled identity, and accepts them again when it is enabled', async () => {
      const id = (await t.http.post('/api/v1/identity', { name: 'disable-me', source: 'service', roles: ['Reader'] }, { session: admin })).body.id;
      const token = (await t.http.get(`/api/v1/apptoken/grant/${id}`, { session: admin })).body.token;
      expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(200);
      await t.http.patch(`/api/v1/identity/${id}`, { disabled: true }, { session: admin });
      expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(401);
      expect((await t.http.get(`/api/v1/apptoken/grant/${id}`, { session: admin })).status).toBe(409);
      await t.http.patch(`/api/v1/identity/${id}`, { disabled: false }, { session: admin });
      expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(200);
    });

    it('refuses the tokens of a deleted identity, and drops a deleted custom role from tokens', async () => {
      await t.http.post('/api/v1/role', { name: 'Payroll' }, { session: admin });
      const id = (await t.http.post('/api/v1/identity', { name: 'payroll-bot', source: 'service', roles: ['Payroll', 'Reader'] }, { session: admin })).body.id;
      const token = (await t.http.get(`/api/v1/apptoken/grant/${id}`, { session: admin })).body.token;
      expect((await t.http.get('/api/v1/identity/my', { token })).body.roles).toEqual(['Reader', 'Payroll']);
      expect((await t.http.delete('/api/v1/role/Payroll', { session: admin })).status).toBe(204);
      expect((await t.http.get('/api/v1/identity/my', { token })).body.roles).toEqual(['Reader']);
      expect((await t.http.delete(`/api/v1/identity/${id}`, { session: admin })).status).toBe(204);
      expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(401);
    });
  });

  describe('last use, audit and storage', () => {
    it('records when and from where a token was last used, without a write per request', async () => {
      const granted = (await t.http.get('/api/v1/apptoken/grant', { session: operator })).body;
      for (let i = 0; i < 5; i++) await t.http.get('/api/v1/identity/my', { token: granted.token });
      const before = await sql.query('SELECT last_used_at FROM app_token WHERE id = $1', [granted.id]);
      expect(before.rows[0].last_used_at).toBeNull();
      expect(await t.app.get(LastUsedTracker).flush()).toBeGreaterThanOrEqual(1);
      const after = await t.http.get(`/api/v1/apptoken/${granted.id}`, { session: operator });
      expect(Date.now() - Date.parse(after.body.lastUsed)).toBeLessThan(10_000);
      const { rows } = await sql.query('SELECT last_used_address FROM app_token WHERE id = $1', [granted.id]);
      expect(rows[0].last_used_address).toBe('127.0.0.1');
    });

    it('audits grants with actor, token, identity and address, and never a token value', async () => {
      const granted = (await t.http.get(`/api/v1/apptoken/grant/${adam.id}?description=audited`, { session: admin })).body;
      const audit = await t.http.get(`/api/v1/audit?token=${granted.id}`, { session: admin });
      expect(audit.body).toEqual([
        expect.objectContaining({ action: 'apptoken.granted', actor: { id: 1, name: 'admin' }, targetIdentity: { id: adam.id, name: 'adam@ironmansoftware.onmicrosoft.com' }, targetTokenId: granted.id, address: '127.0.0.1' }),
      ]);
      const { rows } = await sql.query('SELECT count(*)::int AS n FROM audit_event WHERE detail::text LIKE $1', ['%eyJ%']);
      expect(rows[0].n).toBe(0);
    });

    const dumpable = databaseMode() === 'server' ? it : it.skip;
    if (databaseMode() !== 'server') process.stdout.write('SKIPPED: the pg_dump check needs a PostgreSQL server (not the embedded fallback)\n');
    dumpable('keeps no token value in a pg_dump of the database (enhanced mode)', async () => {
      const tokens = [
        (await t.http.get('/api/v1/apptoken/grant', { session: admin })).body.token,
        (await t.http.get('/api/v1/apptoken/grant', { session: operator })).body.token,
      ];
      const { stdout } = await promisify(execFile)('pg_dump', ['--data-only', '--inserts', t.db.url], { maxBuffer: 64 * 1024 * 1024 });
      expect(stdout).toContain('INSERT INTO public.app_token');
      for (const token of tokens) {
        expect(stdout).not.toContain(token);
        expect(stdout).not.toContain(token.split('.')[2]);
      }
      expect(stdout).not.toMatch(/eyJhbGciOi/);
    });

    it('purges tokens revoked or expired longer than the retention period; until then they stay listed as revoked', async () => {
      const recent = (await t.http.get('/api/v1/apptoken/grant', { session: reader })).body;
      const old = (await t.http.get('/api/v1/apptoken/grant', { session: reader })).body;
      const expiredLongAgo = (await t.http.get('/api/v1/apptoken/grant', { session: reader })).body;
      await t.http.post(`/api/v1/apptoken/${recent.id}/revoke`, undefined, { session: reader });
      await sql.query(`UPDATE app_token SET revoked_at = now() - interval '31 days' WHERE id = $1`, [old.id]);
      await sql.query(`UPDATE app_token SET expires_at = now() - interval '31 days', jwt_expires_at = now() - interval '31 days', created_at = now() - interval '60 days' WHERE id = $1`, [expiredLongAgo.id]);
      expect(await t.app.get(AppTokenHousekeepingService).run()).toBe(2);
      const ids = (await t.http.get('/api/v1/apptoken?pageSize=500', { session: reader })).body.map((token: any) => token.id);
      expect(ids).toContain(recent.id);
      expect(ids).not.toContain(old.id);
      expect(ids).not.toContain(expiredLongAgo.id);
      expect((await t.http.get('/api/v1/audit?action=apptoken.purged', { session: admin })).body[0].detail).toEqual({ count: 2 });
      const { rows } = await sql.query('SELECT count(*)::int AS n FROM app_token_tombstone WHERE hash IN (SELECT ($1::jsonb->>0)::uuid UNION SELECT ($1::jsonb->>1)::uuid)', [
        JSON.stringify([old.token, expiredLongAgo.token].map((token: string) => decodePayload(token)[CLAIM.hash])),
      ]);
      // The revoked one is tombstoned; the long-expired one's tombstone is dropped at once (its JWT can never migrate back).
      expect(rows[0].n).toBe(1);
    });
  });
});

describe('app tokens with enhanced security off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ env: { ENHANCED_APP_TOKEN_SECURITY: 'false' } });
  });
  afterAll(async () => t?.close());

  it('stores the token and returns it whenever the token is read', async () => {
    const session = await t.http.signin('admin', ADMIN_PASSWORD);
    const granted = (await t.http.get('/api/v1/apptoken/grant', { session })).body;
    expect((await t.http.get(`/api/v1/apptoken/${granted.id}`, { session })).body.token).toBe(granted.token);
    expect((await t.http.get('/api/v1/apptoken', { session })).body[0].token).toBe(granted.token);
    expect((await t.http.get('/api/v1/identity/my', { token: granted.token })).status).toBe(200);
  });

  it("does not show a token with fewer roles the values of its owner's stronger tokens", async () => {
    const session = await t.http.signin('admin', ADMIN_PASSWORD);
    const full = (await t.http.get('/api/v1/apptoken/grant', { session })).body;
    const readerOnly = (await t.http.get('/api/v1/apptoken/grant?role=Reader', { session })).body;
    const seen = (await t.http.get('/api/v1/apptoken?pageSize=500', { token: readerOnly.token })).body;
    expect(seen.find((token: any) => token.id === full.id).token).toBeNull();
    expect(seen.find((token: any) => token.id === readerOnly.id).token).toBe(readerOnly.token);
    expect((await t.http.get(`/api/v1/apptoken/${full.id}`, { token: readerOnly.token })).body.token).toBeNull();
    expect((await t.http.get(`/api/v1/apptoken/${full.id}`, { token: full.token })).body.token).toBe(full.token);
  });
});

describe('lifetime policy (APP_TOKEN_MAX_LIFETIME_DAYS)', () => {
  let free: TestApp;
  let capped: TestApp;
  beforeAll(async () => {
    free = await startApp();
    capped = await startApp({ db: free.db, env: { APP_TOKEN_MAX_LIFETIME_DAYS: '30' } });
  });
  afterAll(async () => {
    await capped?.stop();
    await free?.close();
  });

  it('refuses grants beyond the maximum, naming it, and "never"; the default lifetime is capped to it', async () => {
    const session = await capped.http.signin('admin', ADMIN_PASSWORD);
    const long = await capped.http.get('/api/v1/apptoken/grant?lifespanDays=31', { session });
    expect(long.status).toBe(400);
    expect(long.body.message).toBe('the lifetime exceeds the maximum of 30 days (APP_TOKEN_MAX_LIFETIME_DAYS)');
    const never = await capped.http.get('/api/v1/apptoken/grant?expiration=never', { session });
    expect(never.status).toBe(400);
    expect(never.body.message).toMatch(/maximum lifetime is 30 days/);
    expect((await capped.http.get('/api/v1/apptoken/grant?lifespanDays=30', { session })).status).toBe(200);
    const byDefault = (await capped.http.get('/api/v1/apptoken/grant', { session })).body;
    expect(Date.parse(byDefault.expiration) - Date.parse(byDefault.created)).toBeLessThanOrEqual(30 * DAY);
    expect(Date.parse(byDefault.expiration) - Date.parse(byDefault.created)).toBeGreaterThan(30 * DAY - 2000);
  });

  it('tells any signed-in caller the policy (GET /apptoken/policy): the default lifetime and the maximum, null when "never" is allowed', async () => {
    const freeReader = await free.http.signin('admin', ADMIN_PASSWORD);
    await free.http.post('/api/v1/identity', { name: 'policy-reader', password: 'policy-reader-password', roles: ['Reader'] }, { session: freeReader });
    const reader = await free.http.signin('policy-reader', 'policy-reader-password');
    const open = await free.http.get('/api/v1/apptoken/policy', { session: reader });
    expect(open.status).toBe(200);
    expect(open.body).toEqual({ defaultLifetimeDays: 365, maxLifetimeDays: null });
    const session = await capped.http.signin('admin', ADMIN_PASSWORD);
    expect((await capped.http.get('/api/v1/apptoken/policy', { session })).body).toEqual({ defaultLifetimeDays: 30, maxLifetimeDays: 30 });
    expect((await capped.http.get('/api/v1/apptoken/policy')).status).toBe(401);
  });

  it('refuses to rotate a token whose lifetime exceeds the maximum', async () => {
    const session = await free.http.signin('admin', ADMIN_PASSWORD);
    const forever = (await free.http.get('/api/v1/apptoken/grant?expiration=never', { session })).body;
    const cappedSession = await capped.http.signin('admin', ADMIN_PASSWORD);
    const rotated = await capped.http.post(`/api/v1/apptoken/${forever.id}/rotate`, {}, { session: cappedSession });
    expect(rotated.status).toBe(400);
    expect(rotated.body.message).toMatch(/30 days/);
  });
});
