import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import type { HttpResponse } from './support/http.js';
import { mintPsuToken } from './support/tokens.js';

const NUL = '\u0000';

/** A 4xx with a message a person can act on, and nothing of the server's insides. */
function expectClientError(response: HttpResponse, status = 400): void {
  expect({ status: response.status, body: response.body }).toMatchObject({ status, body: { statusCode: status, message: expect.any(String) } });
  expect(response.text).not.toMatch(/\bat .+\.(js|ts):\d+|stack|QueryFailedError|RangeError/);
}

/** Inputs that used to reach PostgreSQL or a JavaScript limit unchecked and come back as a 500. */
describe('bad input gets a clear 4xx, never a 500', () => {
  let t: TestApp;
  let session: string;

  beforeAll(async () => {
    t = await startApp();
    session = await t.http.signin('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => t?.close());

  describe('explicit JSON null, which PowerShell writes for every unset property', () => {
    it('is "not given" everywhere: no 500 for a Reader token or an Administrator', async () => {
      const reader = (await t.http.get('/api/v1/apptoken/grant?role=Reader', { session })).body.token as string;
      const identity = (await t.http.post('/api/v1/identity', { name: 'null-target', source: 'service', roles: ['Reader'] }, { session })).body;
      const rule = (await t.http.post('/api/v1/endpoint', { url: '/nulls/*', method: 'GET', role: 'Reader' }, { session })).body;
      const role = (await t.http.post('/api/v1/role', { name: 'NullRole' }, { session })).body;
      const cases: Array<[string, string, object, { token?: string; session?: string }]> = [
        ['POST', '/api/v1/apptoken/grant', { role: null }, { token: reader }],
        ['POST', '/api/v1/apptoken/grant', { identity: { id: null } }, { token: reader }],
        ['POST', '/api/v1/apptoken/grant', { identity: { name: null } }, { token: reader }],
        ['POST', '/api/v1/apptoken/grant', { identity: null, roles: null, expiration: null, description: null }, { session }],
        ...(['PUT', 'PATCH'] as const).flatMap((method): Array<[string, string, object, { session: string }]> => [
          [method, `/api/v1/identity/${identity.id}`, { role: null, roles: null, password: null, disabled: null }, { session }],
          [method, `/api/v1/endpoint/${rule.id}`, { url: null, authentication: null, method: null, role: null }, { session }],
          [method, `/api/v1/role/${role.name}`, { name: null, description: null }, { session }],
        ]),
        ['POST', '/api/v1/identity', { name: 'null-password', source: 'local', password: null }, { session }],
        ['POST', '/api/v1/endpoint', { url: '/nulls2/*', method: null }, { session }],
      ];
      for (const [method, path, body, auth] of cases) {
        const response = await t.http.request(method, path, { body, ...auth });
        expect(`${method} ${path} ${JSON.stringify(body)} ${response.status}`).toMatch(/ [234]\d\d$/);
        expect(response.text).not.toMatch(/\bat .+\.(js|ts):\d+|stack|QueryFailedError|TypeError/);
      }
    });
  });

  describe('a NUL byte (PostgreSQL refuses U+0000 in text) or another control character', () => {
    it('in the sign-in user name, unauthenticated', async () => {
      const response = await t.http.post('/api/v1/signin', { username: `ad${NUL}min`, password: 'whatever it is' });
      expectClientError(response);
      expect(response.body.message).toMatch(/username.*control character/);
    });

    it.each([
      ['identity search', `/api/v1/identity?search=a%00b`, /search/],
      ['token list identity', `/api/v1/apptoken?identity=a%00b`, /identity/],
      ['token list search', `/api/v1/apptoken?search=a%00b`, /search/],
      ['grant description', `/api/v1/apptoken/grant?description=a%00b`, /description/],
      ['role by name', `/api/v1/role/Pay%00roll`, /name/],
      ['grant role list', `/api/v1/apptoken/grant?role=Read%00er`, /role/],
      ['a bell character in a search', `/api/v1/identity?search=a%07b`, /search/],
    ])('in a query or path: %s', async (_case, path, field) => {
      const response = await t.http.get(path, { session });
      expectClientError(response);
      expect(response.body.message).toMatch(field);
    });

    it.each([
      ['POST', '/api/v1/role', { name: 'Payroll', description: `a${NUL}b` }, /description/],
      ['POST', '/api/v1/role', { name: `Pay${NUL}roll` }, /name/],
      ['POST', '/api/v1/identity', { name: `bot${NUL}`, source: 'service' }, /name/],
      ['POST', '/api/v1/identity', { name: 'bot-roles', source: 'service', roles: [`Read${NUL}er`] }, /roles/],
      ['POST', '/api/v1/apptoken/grant', { description: `a${NUL}b` }, /description/],
      ['POST', '/api/v1/apptoken/grant', { identity: { name: `ad${NUL}min` } }, /identity\.name/],
      ['POST', '/api/v1/endpoint', { url: `/pay${NUL}roll/*` }, /url/],
    ])('in a body: %s %s %j', async (method, path, body, field) => {
      const response = await t.http.request(method, path, { body, session });
      expectClientError(response);
      expect(response.body.message).toMatch(field);
    });

    it('in a role description on update, and in an identity name on update', async () => {
      expect((await t.http.post('/api/v1/role', { name: 'Describable' }, { session })).status).toBe(201);
      expectClientError(await t.http.put('/api/v1/role/Describable', { description: `x${NUL}` }, { session }));
      const bot = await t.http.post('/api/v1/identity', { name: 'renamable-bot', source: 'service' }, { session });
      expectClientError(await t.http.put(`/api/v1/identity/${bot.body.id}`, { name: `renamable${NUL}bot` }, { session }));
    });

    it('in a property name', async () => {
      expectClientError(await t.http.post('/api/v1/signin', { [`user${NUL}name`]: 'admin', password: 'whatever it is' }));
    });

    it('keeps tabs and line breaks in free text (descriptions), which PostgreSQL stores', async () => {
      const response = await t.http.post('/api/v1/role', { name: 'Multiline', description: 'first line\r\n\tsecond line' }, { session });
      expect(response.status).toBe(201);
      expect(response.body.description).toBe('first line\r\n\tsecond line');
    });
  });

  it('refuses a lone surrogate (not Unicode; PostgreSQL would store U+FFFD instead)', async () => {
    const response = await t.http.request('POST', '/api/v1/role', { rawBody: '{"name":"Lone","description":"a\\ud800b"}', headers: { 'content-type': 'application/json' }, session });
    expectClientError(response);
    expect(response.body.message).toMatch(/description/);
  });

  it('refuses bidirectional override and isolate controls in free text (a description that would display as other text)', async () => {
    for (const description of ['Nightly \u202Efdp.exe', '\u2067payroll\u2069']) {
      const response = await t.http.post('/api/v1/role', { name: 'Bidi', description }, { session });
      expectClientError(response);
      expect(response.body.message).toMatch(/^description contains a bidirectional control character \(U\+20(2E|67)\)/);
      const grant = await t.http.post('/api/v1/apptoken/grant', { description }, { session });
      expectClientError(grant);
    }
    // Right-to-left text with its marks is fine.
    const hebrew = await t.http.post('/api/v1/role', { name: 'Bidi', description: 'שכר\u200F (payroll)' }, { session });
    expect(hebrew.status).toBe(201);
  });

  it('refuses JSON nested 5,000 levels deep on sign-in (unauthenticated) before anything recurses into it', async () => {
    for (const rawBody of [`{"username":${'['.repeat(5000)}${']'.repeat(5000)},"password":"x"}`, `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`]) {
      const response = await t.http.request('POST', '/api/v1/signin', { rawBody, headers: { 'content-type': 'application/json' } });
      expectClientError(response);
      expect(response.body.message).toMatch(/nested/);
    }
    // An ordinary body still signs in.
    expect((await t.http.post('/api/v1/signin', { username: 'admin', password: ADMIN_PASSWORD })).status).toBe(200);
  });

  it('stores role names that fold longer than 64 characters (30 Hangul syllables decompose to 90), and refuses one that folds to nothing', async () => {
    for (const name of ['한'.repeat(30), '꽦'.repeat(64)]) {
      const created = await t.http.post('/api/v1/role', { name }, { session });
      expect(created.status).toBe(201);
      expect((await t.http.get(`/api/v1/role/${encodeURIComponent(name)}`, { session })).body.name).toBe(name);
    }
    const dot = await t.http.post('/api/v1/role', { name: '\u0660' }, { session });
    expectClientError(dot);
    expect(dot.body.message).toMatch(/no letters or digits once look-alikes are folded/);
  });

  describe('dates', () => {
    it('refuses an audit "since" outside what PostgreSQL stores', async () => {
      for (const since of ['-271821-04-20T00:00:00Z', '+275760-09-13T00:00:00Z', '10000-01-01T00:00:00Z']) {
        const response = await t.http.get(`/api/v1/audit?since=${encodeURIComponent(since)}`, { session });
        expectClientError(response);
        expect(response.body.message).toMatch(/since/);
      }
      expect((await t.http.get('/api/v1/audit?since=2026-01-01T00:00:00Z', { session })).status).toBe(200);
    });

    it('refuses impossible calendar dates whatever the offset, instead of rolling them over', async () => {
      for (const expiration of ['2030-02-30T00:00:00+01:00', '2030-02-29T00:00:00Z', '2030-04-31T12:00:00-05:00', '2030-13-01T00:00:00Z', '2030-01-01T24:00:00Z', '2030-01-01T23:60:00+02:00']) {
        const response = await t.http.post('/api/v1/apptoken/grant', { expiration }, { session });
        expectClientError(response);
        expect(response.body.message).toMatch(/expiration/);
      }
      // A real leap day is fine.
      expect((await t.http.post('/api/v1/apptoken/grant', { expiration: '2032-02-29T00:00:00+01:00' }, { session })).status).toBe(201);
    });

    it('refuses a /Date(ms)/ past the year 9999 (or before the year 1)', async () => {
      for (const value of ['/Date(999999999999999)/', '/Date(-999999999999999)/']) {
        const response = await t.http.post('/api/v1/apptoken/grant', { expiration: { value, DisplayHint: 2, DateTime: 'far away' } }, { session });
        expectClientError(response);
        expect(response.body.message).toMatch(/expiration/);
      }
    });
  });

  it('refuses a migrated name claim of 300 characters (it would not fit the identity table)', async () => {
    // 300 characters that normalise to 150: the folded key fits, the name as sent does not.
    const name = 'e\u0301'.repeat(150);
    const token = mintPsuToken({ name, roles: ['Reader'] }, TEST_SIGNING_KEY);
    const response = await t.http.post('/api/v1/apptoken', { Token: token, Identity: { Name: 'é'.repeat(150) }, Role: 'Reader' }, { session });
    expectClientError(response, 422);
  });

  it.each([
    ['exp past the year 9999', { exp: 1e15 }],
    ['exp past what a Date holds', { exp: 1e300 }],
    ['nbf before the year 1', { nbf: -1e15 }],
  ])('refuses a migrated token whose %s (422), instead of a 500 from the database', async (_case, claims) => {
    const token = mintPsuToken({ name: 'admin', roles: ['Reader'], ...claims }, TEST_SIGNING_KEY);
    const response = await t.http.post('/api/v1/apptoken', { Token: token, Identity: { Name: 'admin' }, Role: 'Reader' }, { session });
    expectClientError(response, 422);
  });

  describe('siblings: numbers, sizes and shapes at the edges', () => {
    it.each(['/api/v1/apptoken/1e309', '/api/v1/apptoken/99999999999999999999', '/api/v1/identity/2147483648', '/api/v1/endpoint/-1', '/api/v1/apptoken/0x10', '/api/v1/identity/%20'])('path id %s', async (path) => {
      expectClientError(await t.http.get(path, { session }));
    });

    it.each(['page=99999999999999999999', 'pageSize=1e309', 'page=Infinity', 'pageSize=-0', 'page=1&page=2', 'identity=1e309'])('list query %s', async (query) => {
      const path = query.startsWith('identity') ? `/api/v1/audit?${query}` : `/api/v1/identity?${query}`;
      expectClientError(await t.http.get(path, { session }));
    });

    it('refuses an array of 20,000 roles (inside the body limit) with a 400, not a slow or failing request', async () => {
      const started = Date.now();
      const response = await t.http.post('/api/v1/identity', { name: 'many-roles', source: 'service', roles: new Array(20_000).fill('R') }, { session });
      expectClientError(response);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('refuses "__proto__" and "constructor" keys at any depth', async () => {
      for (const rawBody of ['{"username":"admin","password":"x","__proto__":{"a":1}}', '{"identity":{"__proto__":{"id":1}}}', '{"identity":{"constructor":{"prototype":{"x":1}}}}']) {
        expectClientError(await t.http.request('POST', '/api/v1/apptoken/grant', { rawBody, headers: { 'content-type': 'application/json' }, session }));
      }
    });

    it('refuses "__proto__" and "constructor" in a query or a form body too, and keeps an error about a huge property name short', async () => {
      for (const path of ['/api/v1/identity?__proto__=1', '/api/v1/identity?constructor=2', '/api/v1/apptoken?search=x&prototype=3']) {
        const response = await t.http.get(path, { session });
        expectClientError(response);
        expect(response.body.message).toMatch(/is not allowed as a property name/);
      }
      const form = await t.http.request('POST', '/api/v1/apptoken/introspect', { rawBody: 'token=x&__proto__=y', headers: { 'content-type': 'application/x-www-form-urlencoded' }, session });
      expectClientError(form);
      const huge = await t.http.request('POST', '/api/v1/apptoken/introspect', { rawBody: `token=x&${'k'.repeat(50_000)}=y`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, session });
      expectClientError(huge);
      expect(huge.text.length).toBeLessThan(1000);
    });

    it('answers a very long header with 431, not a 500', async () => {
      const response = await fetch(`${t.baseUrl}/api/v1/alive`, { headers: { 'x-padding': 'x'.repeat(64 * 1024) } }).catch((error: unknown) => error);
      if (response instanceof Response) expect(response.status).toBe(431);
    });

    it('refuses a number too big for its column in a body (lifespanDays, identity.id)', async () => {
      expectClientError(await t.http.request('POST', '/api/v1/apptoken/grant', { rawBody: '{"lifespanDays":1e309}', headers: { 'content-type': 'application/json' }, session }));
      expectClientError(await t.http.request('POST', '/api/v1/apptoken/grant', { rawBody: '{"identity":{"id":1e400}}', headers: { 'content-type': 'application/json' }, session }));
      expectClientError(await t.http.post('/api/v1/apptoken/grant', { identity: { id: 2 ** 53 } }, { session }));
    });
  });
});
