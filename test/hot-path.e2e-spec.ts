import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jsonwebtoken from 'jsonwebtoken';
import pg from 'pg';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';

/**
 * Issue 10: what authentication already loaded is not loaded again, and a token's HMAC is checked once per
 * request. Counted, not timed: the SELECTs the app sends while serving cached Bearer requests, and the calls to
 * jsonwebtoken's verify (passport-jwt's own check, which the codec's verdict replaces).
 */
describe('the Bearer hot path reads nothing again', () => {
  let t: TestApp;
  let token: string;
  const selects: string[] = [];
  let jwtVerifies = 0;
  const originalQuery = pg.Client.prototype.query;
  const originalVerify = jsonwebtoken.verify;

  beforeAll(async () => {
    t = await startApp();
    const admin = await t.http.signin('admin', ADMIN_PASSWORD);
    const granted = await t.http.get('/api/v1/apptoken/grant', { session: admin });
    expect(granted.status).toBe(200);
    token = granted.body.token;
    // Counted from here on: every query text the app's pool sends, every jsonwebtoken.verify call.
    (pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
      if (text && /^\s*(SELECT|WITH)\b/i.test(text)) selects.push(text);
      return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof pg.Client.prototype.query;
    (jsonwebtoken as unknown as { verify: (...args: unknown[]) => unknown }).verify = (...args: unknown[]) => {
      jwtVerifies++;
      return (originalVerify as (...a: unknown[]) => unknown)(...args);
    };
  });
  afterAll(async () => {
    pg.Client.prototype.query = originalQuery;
    jsonwebtoken.verify = originalVerify;
    await t?.close();
  });

  it('counts at all: the first use of a token reads its record (the spy sees the app\'s queries)', async () => {
    selects.length = 0;
    const first = await t.http.get('/api/v1/identity/my', { token });
    expect(first.status).toBe(200);
    expect(selects.some((text) => /\bapp_token\b/.test(text))).toBe(true);
  });

  it('serves identity/my with a cached token without a single SELECT, and its answer is the caller', async () => {
    selects.length = 0;
    for (let i = 0; i < 20; i++) {
      const answer = await t.http.get('/api/v1/identity/my', { token });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ name: 'admin', authenticatedBy: 'token', hasPassword: true });
      expect(answer.body.roles).toContain('Administrator');
      expect(typeof answer.body.created).toBe('string');
    }
    expect(selects).toEqual([]);
  });

  it('never has jsonwebtoken check the HMAC the codec has checked, and still refuses a forged signature', async () => {
    jwtVerifies = 0;
    for (let i = 0; i < 5; i++) expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(200);
    expect(jwtVerifies).toBe(0);
    const [header, payload, signature] = token.split('.');
    const forged = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await t.http.get('/api/v1/identity/my', { token: forged })).status).toBe(401);
  });
});
