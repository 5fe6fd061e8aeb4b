import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { connect } from './support/database.js';
import { resign } from './support/tokens.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('custom API endpoint rules and forward-auth', () => {
  let t: TestApp;
  let sql: pg.Client;
  let admin: string;
  /** Tokens by holder: payroll (Payroll), reader (Reader), boss (Administrator only), both (Payroll, Reader). */
  const tokens: Record<string, string> = {};

  const verify = (uri: string | undefined, token?: string, method = 'GET', extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = { ...extra };
    if (uri !== undefined) {
      headers['x-original-uri'] = uri;
      headers['x-original-method'] = method;
    }
    return t.http.get('/api/v1/apptoken/verify', { token, headers });
  };
  const status = async (uri: string, token?: string, method = 'GET') => (await verify(uri, token, method)).status;
  const rule = async (body: object) => {
    const response = await t.http.post('/api/v1/endpoint', body, { session: admin });
    expect(response.status).toBe(201);
    return response.body as { id: number };
  };

  beforeAll(async () => {
    t = await startApp();
    sql = await connect(t.db.url);
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    await t.http.post('/api/v1/role', { name: 'Payroll' }, { session: admin });
    for (const [name, roles] of Object.entries({ payroll: ['Payroll'], reader: ['Reader'], boss: ['Administrator'], both: ['Payroll', 'Reader'] })) {
      const identity = (await t.http.post('/api/v1/identity', { name: `${name}-bot`, source: 'service', roles }, { session: admin })).body;
      tokens[name] = (await t.http.get(`/api/v1/apptoken/grant/${identity.id}`, { session: admin })).body.token;
    }
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  describe('the rules API (/api/v1/endpoint)', () => {
    it('creates rules named as New-PSUEndpoint, with a single string or an array for method and role', async () => {
      const created = await t.http.post('/api/v1/endpoint', { Url: '/payroll/*', Method: 'GET', Authentication: true, Role: 'Payroll' }, { session: admin });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(Number), url: '/payroll/*', method: ['GET'], authentication: true, role: ['Payroll'] });
      const withRoles = await t.http.post('/api/v1/endpoint', { url: '/users/:id', method: ['get', 'put'], roles: ['Reader', 'Payroll'] }, { session: admin });
      expect(withRoles.body).toMatchObject({ method: ['GET', 'PUT'], authentication: true, role: ['Reader', 'Payroll'] });
      const any = await t.http.post('/api/v1/endpoint', { url: '/health', authentication: false }, { session: admin });
      expect(any.body).toMatchObject({ method: ['*'], authentication: false, role: [] });
      expect((await t.http.get(`/api/v1/endpoint/${created.body.id}`, { session: admin })).body.url).toBe('/payroll/*');
      const list = await t.http.get('/api/v1/endpoint', { session: admin });
      expect(list.body.map((r: any) => r.url)).toEqual(['/payroll/*', '/users/:id', '/health']);
      expect(list.headers.get('x-total-count')).toBe('3');
    });

    it('refuses unknown roles, bad patterns, bad methods and contradictions with 400', async () => {
      const unknown = await t.http.post('/api/v1/endpoint', { url: '/x/*', role: 'Wizard' }, { session: admin });
      expect(unknown.status).toBe(400);
      expect(unknown.body.message).toBe('unknown role "Wizard"');
      for (const body of [
        { url: 'no-slash' },
        { url: '/a/*/b' },
        { url: '/a?b=1' },
        { url: '/x', method: 'FETCH' },
        { url: '/x', authentication: false, role: 'Reader' },
        { url: '/x', role: 'Reader', roles: ['Reader'] },
        { url: '/x', color: 'red' },
      ]) {
        const response = await t.http.post('/api/v1/endpoint', body, { session: admin });
        expect(`${JSON.stringify(body)} ${response.status}`).toBe(`${JSON.stringify(body)} 400`);
      }
    });

    it('refuses a second rule of the same shape for a common method (409)', async () => {
      const clash = await t.http.post('/api/v1/endpoint', { url: '/users/:userId', method: 'PUT', role: 'Reader' }, { session: admin });
      expect(clash.status).toBe(409);
      expect(clash.body.message).toMatch(/already covers/);
      expect((await t.http.post('/api/v1/endpoint', { url: '/users/:userId', method: 'DELETE', role: 'Reader' }, { session: admin })).status).toBe(201);
    });

    it('lets only Administrators manage rules', async () => {
      for (const token of [tokens.payroll, tokens.reader]) {
        expect((await t.http.get('/api/v1/endpoint', { token })).status).toBe(403);
        expect((await t.http.post('/api/v1/endpoint', { url: '/mine' }, { token })).status).toBe(403);
      }
    });

    it('refuses to delete a role an endpoint rule requires (409): the rule would quietly open up', async () => {
      const response = await t.http.delete('/api/v1/role/Payroll', { session: admin });
      expect(response.status).toBe(409);
      expect(response.body.message).toMatch(/required by endpoint rule/);
    });

    it('audits rule changes', async () => {
      const events = await t.http.get('/api/v1/audit?action=endpoint.', { session: admin });
      expect(events.body.length).toBeGreaterThanOrEqual(4);
      expect(events.body[events.body.length - 1]).toMatchObject({ action: 'endpoint.created', actor: { name: 'admin' }, detail: { endpoint: { url: '/payroll/*' } } });
    });
  });

  describe('forward-auth (GET /api/v1/apptoken/verify)', () => {
    it('answers 200 with the identity headers for a token holding a rule\'s role', async () => {
      const response = await verify('/payroll/2026/11?x=1', tokens.payroll);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-identity-name')).toBe('payroll-bot');
      expect(response.headers.get('x-identity-id')).toMatch(/^\d+$/);
      expect(response.headers.get('x-identity-roles')).toBe('Payroll');
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it('answers 401 without a token or with an invalid one, and 403 for a token lacking the role', async () => {
      expect(await status('/payroll/x')).toBe(401);
      expect(await status('/payroll/x', 'not.a.token')).toBe(401);
      expect(await status('/payroll/x', resign(tokens.payroll, { aud: 'elsewhere' }, TEST_SIGNING_KEY))).toBe(401);
      const lacking = await verify('/payroll/x', tokens.reader);
      expect(lacking.status).toBe(403);
      expect(lacking.body.message).toBe('Requires role Payroll');
    });

    it('does not let Administrator bypass a rule\'s role list', async () => {
      expect(await status('/payroll/x', tokens.boss)).toBe(403);
    });

    it('refuses requests no rule matches (403), with or without a token', async () => {
      const response = await verify('/nothing/here', tokens.both);
      expect(response.status).toBe(403);
      expect(response.body.message).toBe('No endpoint rule allows GET /nothing/here');
      expect(await status('/nothing/here')).toBe(403);
    });

    it('judges a path with a trailing slash, or the bare prefix of a wildcard, by that wildcard rule', async () => {
      // /payroll/* covers /payroll and /payroll/ (ASP.NET's catch-all does; many upstreams serve them alike).
      expect(await status('/payroll', tokens.payroll)).toBe(200);
      expect(await status('/payroll/', tokens.payroll)).toBe(200);
      expect(await status('/payroll/', tokens.reader)).toBe(403);
    });

    it('matches methods, parameters and the most specific pattern', async () => {
      // /users/:id allows GET and PUT for Reader or Payroll; DELETE has its own rule for Reader.
      expect(await status('/users/42', tokens.payroll, 'PUT')).toBe(200);
      expect(await status('/users/42', tokens.payroll, 'DELETE')).toBe(403);
      expect(await status('/users/42', tokens.reader, 'DELETE')).toBe(200);
      expect(await status('/users/42', tokens.reader, 'POST')).toBe(403);
      expect(await status('/users/42/keys', tokens.reader)).toBe(403);
      // A more specific rule beats the wildcard: /payroll/public is open, the rest of /payroll/* is not.
      const open = await rule({ url: '/payroll/public', authentication: false });
      expect(await status('/payroll/public')).toBe(200);
      expect(await status('/payroll/public/more')).toBe(401);
      await t.http.delete(`/api/v1/endpoint/${open.id}`, { session: admin });
      expect(await status('/payroll/public')).toBe(401);
    });

    it('lets a rule without authentication through with no token, and still names a valid caller', async () => {
      expect(await status('/health')).toBe(200);
      expect(await status('/health', 'garbage')).toBe(200);
      const named = await verify('/health', tokens.reader);
      expect(named.headers.get('x-identity-name')).toBe('reader-bot');
    });

    it("reads Traefik's X-Forwarded-Method and X-Forwarded-Uri", async () => {
      const ok = await t.http.get('/api/v1/apptoken/verify', { token: tokens.reader, headers: { 'x-forwarded-method': 'DELETE', 'x-forwarded-uri': '/users/7' } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-identity-roles')).toBe('Reader');
      const denied = await t.http.get('/api/v1/apptoken/verify', { token: tokens.reader, headers: { 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/users/7' } });
      expect(denied.status).toBe(403);
    });

    it('refuses both header families at once (a client adding its own), and a URI without its method', async () => {
      const both = await t.http.get('/api/v1/apptoken/verify', {
        token: tokens.reader,
        headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/payroll/x', 'x-original-uri': '/health', 'x-original-method': 'GET' },
      });
      expect(both.status).toBe(400);
      expect(both.body.message).toMatch(/not both/);
      const noMethod = await t.http.get('/api/v1/apptoken/verify', { token: tokens.payroll, headers: { 'x-original-uri': '/payroll/x' } });
      expect(noMethod.status).toBe(400);
    });

    it('lets the most specific pattern decide: a method it leaves out is not covered by a broader rule', async () => {
      const fallback = await rule({ url: '/*' });
      expect(await status('/payroll/x', tokens.reader, 'PUT')).toBe(403);
      expect(await status('/elsewhere', tokens.reader, 'PUT')).toBe(200);
      await t.http.delete(`/api/v1/endpoint/${fallback.id}`, { session: admin });
    });

    it('takes explicit role parameters without rules, and any valid token with neither', async () => {
      expect((await t.http.get('/api/v1/apptoken/verify?role=Payroll', { token: tokens.payroll })).status).toBe(200);
      expect((await t.http.get('/api/v1/apptoken/verify?role=payroll', { token: tokens.both })).status).toBe(200);
      expect((await t.http.get('/api/v1/apptoken/verify?role=Payroll', { token: tokens.reader })).status).toBe(403);
      expect((await t.http.get('/api/v1/apptoken/verify?role=Operator&role=Reader', { token: tokens.reader })).status).toBe(200);
      expect((await t.http.get('/api/v1/apptoken/verify?role=Operator,Reader', { token: tokens.reader })).status).toBe(200);
      expect((await t.http.get('/api/v1/apptoken/verify?role=Payroll')).status).toBe(401);
      expect((await t.http.get('/api/v1/apptoken/verify?role=%00', { token: tokens.reader })).status).toBe(400);
      // Either question, never both: ?role= cannot stand in for the rules of the original request.
      const both = await t.http.get('/api/v1/apptoken/verify?role=Reader', { token: tokens.reader, headers: { 'x-original-method': 'GET', 'x-original-uri': '/payroll/a' } });
      expect(both.status).toBe(400);
      // Case only: a look-alike or separator-folded name is not the role (the rule names the role itself).
      for (const lookalike of ['Payr0ll', 'PAY ROLL', 'Pay-roll', 'Pаyroll']) {
        const response = await t.http.get(`/api/v1/apptoken/verify?role=${encodeURIComponent(lookalike)}`, { token: tokens.payroll });
        expect(`${lookalike} ${response.status}`).toBe(`${lookalike} 403`);
      }
      const any = await t.http.get('/api/v1/apptoken/verify', { token: tokens.boss });
      expect(any.status).toBe(200);
      expect(any.headers.get('x-identity-roles')).toBe('Administrator');
      expect((await t.http.get('/api/v1/apptoken/verify')).status).toBe(401);
    });

    it('judges the original URI exactly as the upstream receives it, and refuses (400) one not in canonical form', async () => {
      expect(await status('/pay%72oll/x', tokens.reader)).toBe(403);
      expect(await status('/PayRoll/x', tokens.reader)).toBe(403);
      expect(await status('/PayRoll/x', tokens.payroll)).toBe(200);
      // Dot segments and empty segments are not resolved for the upstream, so they are not resolved here either.
      for (const uri of [
        '/health/../payroll/x',
        '/payroll/2026/11/../../../health',
        '/payroll/2026/%2e%2e/%2e%2e/health',
        '/payroll//../public/x',
        '//payroll//x',
        '/payroll/./x',
        '/bad%zz',
        '/payroll%2Fx',
        '/health/..%2Fpayroll',
        '/payroll;v=1/x',
        '/payroll./x',
        '/health\\..\\payroll',
        '/pay%2572oll/x',
      ]) {
        const response = await verify(uri, tokens.payroll);
        expect(`${uri} ${response.status}`).toBe(`${uri} 400`);
        expect(response.body.message).toMatch(/^Refused: the original/);
      }
      // The same through Traefik's header family.
      const traefik = await t.http.get('/api/v1/apptoken/verify', { headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/payroll/%2e%2e/health' } });
      expect(traefik.status).toBe(400);
    });

    it('judges every method an override names, as well as the request\'s own', async () => {
      // /payroll/* allows GET for Payroll; /users/:id allows GET and PUT for Reader or Payroll, DELETE for Reader.
      const override = (name: string, value: string, uri = '/payroll/x', method = 'GET', token = tokens.payroll) =>
        verify(uri, token, method, { [name]: value }).then((r) => r.status);
      for (const name of ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']) {
        expect(`${name} ${await override(name, 'DELETE')}`).toBe(`${name} 403`);
        expect(`${name} ${await override(name, 'get')}`).toBe(`${name} 200`);
      }
      expect(await override('X-HTTP-Method-Override', 'DELETE', '/users/7', 'GET', tokens.reader)).toBe(200);
      expect(await override('X-HTTP-Method-Override', 'DELETE', '/users/7', 'GET', tokens.payroll)).toBe(403);
      expect(await override('X-HTTP-Method-Override', 'GET, DELETE', '/payroll/x')).toBe(403);
      expect(await override('X-HTTP-Method-Override', 'DELETE x')).toBe(400);
      // A POST's _method query parameter (Laravel, Symfony).
      const forms = await rule({ url: '/forms/:id', method: 'POST', role: 'Payroll' });
      expect(await status('/forms/7', tokens.payroll, 'POST')).toBe(200);
      expect(await status('/forms/7?_method=DELETE', tokens.payroll, 'POST')).toBe(403);
      expect(await status('/forms/7?_method=post', tokens.payroll, 'POST')).toBe(200);
      await t.http.delete(`/api/v1/endpoint/${forms.id}`, { session: admin });
    });

    it('applies a rule change on the next request', async () => {
      const created = await rule({ url: '/reports/:year', method: 'GET', role: 'Payroll' });
      expect(await status('/reports/2026', tokens.reader)).toBe(403);
      await t.http.patch(`/api/v1/endpoint/${created.id}`, { role: ['Payroll', 'Reader'] }, { session: admin });
      expect(await status('/reports/2026', tokens.reader)).toBe(200);
      await t.http.patch(`/api/v1/endpoint/${created.id}`, { url: '/reports/:year/:month' }, { session: admin });
      expect(await status('/reports/2026', tokens.reader)).toBe(403);
      expect(await status('/reports/2026/11', tokens.reader)).toBe(200);
      await t.http.delete(`/api/v1/endpoint/${created.id}`, { session: admin });
      expect(await status('/reports/2026/11', tokens.reader)).toBe(403);
    });

    it('follows a role rename into the rules', async () => {
      await t.http.post('/api/v1/role', { name: 'Finance' }, { session: admin });
      const id = (await t.http.post('/api/v1/identity', { name: 'finance-bot', source: 'service', roles: ['Finance'] }, { session: admin })).body.id;
      const token = (await t.http.get(`/api/v1/apptoken/grant/${id}`, { session: admin })).body.token;
      await rule({ url: '/finance/*', role: 'Finance' });
      expect(await status('/finance/q4', token)).toBe(200);
      await t.http.put('/api/v1/role/Finance', { name: 'Treasury' }, { session: admin });
      expect((await t.http.get('/api/v1/endpoint', { session: admin })).body.find((r: any) => r.url === '/finance/*').role).toEqual(['Treasury']);
      expect(await status('/finance/q4', token)).toBe(200);
    });

    it('refuses a revoked token and a disabled identity\'s token', async () => {
      const id = (await t.http.post('/api/v1/identity', { name: 'temp-bot', source: 'service', roles: ['Payroll'] }, { session: admin })).body.id;
      const first = (await t.http.get(`/api/v1/apptoken/grant/${id}`, { session: admin })).body;
      const second = (await t.http.get(`/api/v1/apptoken/grant/${id}`, { session: admin })).body;
      expect(await status('/payroll/x', first.token)).toBe(200);
      await t.http.post(`/api/v1/apptoken/${first.id}/revoke`, undefined, { session: admin });
      expect(await status('/payroll/x', first.token)).toBe(401);
      expect(await status('/payroll/x', second.token)).toBe(200);
      await t.http.patch(`/api/v1/identity/${id}`, { disabled: true }, { session: admin });
      expect(await status('/payroll/x', second.token)).toBe(401);
    });

    it('percent-encodes names outside printable ASCII in the identity headers', async () => {
      const id = (await t.http.post('/api/v1/identity', { name: 'José', source: 'service', roles: ['Reader'] }, { session: admin })).body.id;
      const token = (await t.http.get(`/api/v1/apptoken/grant/${id}`, { session: admin })).body.token;
      const response = await t.http.get('/api/v1/apptoken/verify', { token });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-identity-name')).toBe('Jos%C3%A9');
    });
  });

  describe('introspection (RFC 7662)', () => {
    const introspect = (body: string, contentType: string, auth: { token?: string; session?: string }) =>
      t.http.request('POST', '/api/v1/apptoken/introspect', { rawBody: body, headers: { 'content-type': contentType }, ...auth });

    it('describes an active token, form-encoded, to an Administrator', async () => {
      const granted = (await t.http.get('/api/v1/apptoken/grant?role=Reader&lifespanDays=5', { session: admin })).body;
      const response = await introspect(`token=${granted.token}&token_type_hint=access_token`, 'application/x-www-form-urlencoded', { session: admin });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.body).toEqual({
        active: true,
        username: 'admin',
        iat: Math.floor(Date.parse(granted.created) / 1000),
        nbf: Math.floor(Date.parse(granted.created) / 1000),
        exp: Date.parse(granted.expiration) / 1000,
        iss: 'IronmanSoftware',
        aud: 'PowerShellUniversal',
        roles: ['Reader'],
        token_type: 'Bearer',
      });
    });

    it('answers {"active": false} for revoked, expired, forged and malformed tokens', async () => {
      const revoked = (await t.http.get('/api/v1/apptoken/grant', { session: admin })).body;
      await t.http.post(`/api/v1/apptoken/${revoked.id}/revoke`, undefined, { session: admin });
      const expiring = (await t.http.get(`/api/v1/apptoken/grant?expiration=${encodeURIComponent(new Date(Date.now() + 1200).toISOString())}`, { session: admin })).body;
      await sleep(1500);
      for (const token of [revoked.token, expiring.token, resign(tokens.reader, { exp: 1 }, TEST_SIGNING_KEY), 'x.y.z', '']) {
        const response = await introspect(JSON.stringify({ token }), 'application/json', { session: admin });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ active: false });
      }
    });

    it('lets the bearer of a token introspect it, and no one but an Administrator introspect someone else\'s', async () => {
      const own = await introspect(`token=${tokens.reader}`, 'application/x-www-form-urlencoded', { token: tokens.reader });
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({ active: true, username: 'reader-bot', roles: ['Reader'] });
      const foreign = await introspect(`token=${tokens.payroll}`, 'application/x-www-form-urlencoded', { token: tokens.reader });
      expect(foreign.status).toBe(403);
      expect(foreign.body.message).toMatch(/Only Administrators/);
      expect((await introspect(`token=${tokens.payroll}`, 'application/x-www-form-urlencoded', { token: tokens.boss })).body.active).toBe(true);
      expect((await introspect(`token=${tokens.payroll}`, 'application/x-www-form-urlencoded', {})).status).toBe(401);
    });

    it('takes form bodies on introspection only', async () => {
      const response = await t.http.request('POST', '/api/v1/role', { rawBody: 'name=Sneaky', headers: { 'content-type': 'application/x-www-form-urlencoded' }, session: admin });
      expect(response.status).toBe(415);
    });
  });
});
