import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { connect } from './support/database.js';
import { mintPsuToken, nowSeconds, PSU_DEFAULT_KEY, resign } from './support/tokens.js';

const PREVIOUS_KEY = 'the-key-this-instance-used-before-the-current-one';

/** This instance shares PSU's default key (with the weak-key opt-in), as an admin migrating from PSU would set it. */
describe('migrating tokens minted by PSU (POST /api/v1/apptoken)', () => {
  let t: TestApp;
  let sql: pg.Client;
  let session: string;
  /** An Administrator app token, sent as the seed page sends it: -Headers @{ Authorization = "Bearer ..." }. */
  let bearer: string;

  const counts = async () => (await sql.query('SELECT (SELECT count(*)::int FROM app_token) AS tokens, (SELECT count(*)::int FROM identity) AS identities')).rows[0];

  beforeAll(async () => {
    t = await startApp({ env: { JWT_SIGNING_KEY: PSU_DEFAULT_KEY, JWT_ALLOW_WEAK_SIGNING_KEY: 'true', JWT_PREVIOUS_SIGNING_KEYS: PREVIOUS_KEY } });
    sql = await connect(t.db.url);
    session = await t.http.signin('admin', ADMIN_PASSWORD);
    bearer = (await t.http.get('/api/v1/apptoken/grant?role=Administrator', { session })).body.token;
    await t.http.post('/api/v1/role', { name: 'policy' }, { session });
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  it('stores a PSU token sent exactly as the seed page sends it, and the token then works here', async () => {
    const exp = nowSeconds() + 180 * 86400;
    const token = mintPsuToken({ name: 'Admin', roles: ['Administrator'], exp });
    // (Get-Date).AddMonths(6) | ConvertTo-Json in PowerShell 7: local time, 7 fractional digits, an offset.
    const expiration = new Date(Date.now() + 90 * 86400_000);
    const ps7 = `${expiration.toISOString().slice(0, 19)}.1234567+00:00`;
    const response = await t.http.post('/api/v1/apptoken', { Token: token, Identity: { Name: 'Admin' }, Role: 'Administrator', Expiration: ps7 }, { token: bearer });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ identity: { id: 1, name: 'admin' }, roles: ['Administrator'], revoked: false, token });
    // The stored expiration is the earlier of the token's exp and Expiration.
    expect(response.body.expiration).toBe(`${expiration.toISOString().slice(0, 19)}.123Z`);
    const my = await t.http.get('/api/v1/identity/my', { token });
    expect(my.status).toBe(200);
    expect(my.body).toMatchObject({ name: 'admin', roles: ['Administrator'], tokenId: response.body.id });
    const audit = await t.http.get(`/api/v1/audit?token=${response.body.id}`, { session });
    expect(audit.body[0]).toMatchObject({ action: 'apptoken.migrated', actor: { name: 'admin' } });
    expect(audit.text).not.toContain(token);
  });

  it("keeps the token's exp when Expiration is later, and accepts Windows PowerShell 5.1's date object", async () => {
    const exp = nowSeconds() + 10 * 86400;
    const token = mintPsuToken({ name: 'Admin', roles: ['Administrator', 'Operator'], exp });
    const later = Date.now() + 100 * 86400_000;
    const response = await t.http.post(
      '/api/v1/apptoken',
      { token, identity: { name: 'admin' }, role: ['Operator', 'Administrator'], expiration: { value: `/Date(${later})/`, DisplayHint: 2, DateTime: 'some day' } },
      { session },
    );
    expect(response.status).toBe(201);
    expect(response.body.expiration).toBe(new Date(exp * 1000).toISOString());
  });

  it('creates a missing identity with source "migrated" and the token\'s roles (comma-joined Role)', async () => {
    const token = mintPsuToken({ name: 'ci-bot', roles: ['Operator', 'policy'] });
    const response = await t.http.post('/api/v1/apptoken', { Token: token, Identity: { Name: 'ci-bot' }, Role: 'policy, Operator' }, { session });
    expect(response.status).toBe(201);
    expect(response.body.identity).toMatchObject({ name: 'ci-bot', source: 'migrated', role: 'Operator, policy' });
    const identity = await t.http.get(`/api/v1/identity/${response.body.identity.id}`, { session });
    expect(identity.body).toMatchObject({ source: 'migrated', roles: ['Operator', 'policy'], hasPassword: false });
    expect((await t.http.get('/api/v1/identity/my', { token })).body.roles).toEqual(['Operator', 'policy']);
  });

  it('migrates a token that never expires, and one signed with a previous key', async () => {
    const never = mintPsuToken({ name: 'ci-bot', roles: ['Operator'], exp: undefined });
    const stored = await t.http.post('/api/v1/apptoken', { Token: never, Identity: { Name: 'ci-bot' }, Role: 'Operator' }, { session });
    expect(stored.status).toBe(201);
    expect(stored.body.expiration).toBeNull();
    const old = mintPsuToken({ name: 'ci-bot', roles: ['Operator'] }, PREVIOUS_KEY);
    expect((await t.http.post('/api/v1/apptoken', { Token: old, Identity: { Name: 'ci-bot' }, Role: 'Operator' }, { session })).status).toBe(201);
    expect((await t.http.get('/api/v1/identity/my', { token: old })).status).toBe(200);
  });

  it('accepts, right after migration, a token that was refused just before it', async () => {
    const token = mintPsuToken({ name: 'ci-bot', roles: ['Operator'] });
    expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(401);
    expect((await t.http.post('/api/v1/apptoken', { Token: token, Identity: { Name: 'ci-bot' }, Role: 'Operator' }, { session })).status).toBe(201);
    expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(200);
  });

  it.each([
    ['a signature that does not verify with these keys', () => ({ Token: mintPsuToken({ name: 'Admin', roles: ['Administrator'] }, 'a-key-this-instance-does-not-know-at-all'), Identity: { Name: 'Admin' }, Role: 'Administrator' }), /signature does not verify/],
    ['another issuer', () => ({ Token: mintPsuToken({ name: 'Admin', roles: ['Administrator'], iss: 'Contoso' }), Identity: { Name: 'Admin' }, Role: 'Administrator' }), /issuer/],
    ['another audience', () => ({ Token: mintPsuToken({ name: 'Admin', roles: ['Administrator'], aud: 'Grafana' }), Identity: { Name: 'Admin' }, Role: 'Administrator' }), /audience/],
    ['an exp that has passed', () => ({ Token: mintPsuToken({ name: 'Admin', roles: ['Administrator'], nbf: nowSeconds() - 7200, exp: nowSeconds() - 3600 }), Identity: { Name: 'Admin' }, Role: 'Administrator' }), /expired/],
    ['a body identity that is not the name claim', () => ({ Token: mintPsuToken({ name: 'Admin', roles: ['Administrator'] }), Identity: { Name: 'Mallory' }, Role: 'Administrator' }), /not the token's name claim/],
    ['body roles that are not the role claim', () => ({ Token: mintPsuToken({ name: 'Admin', roles: ['Reader'] }), Identity: { Name: 'Admin' }, Role: 'Administrator' }), /not the token's role claim/],
    ['a role unknown here (the seed page\'s "policy" token, had policy not been created)', () => ({ Token: mintPsuToken({ name: 'new-one', roles: ['Payroll'] }), Identity: { Name: 'new-one' }, Role: 'Payroll' }), /role "Payroll" does not exist here/],
    ['an Expiration that has passed', () => ({ Token: mintPsuToken({ name: 'Admin', roles: ['Administrator'] }), Identity: { Name: 'Admin' }, Role: 'Administrator', Expiration: '2020-01-01T00:00:00Z' }), /Expiration has passed/],
    ['an existing identity that lacks the role', () => ({ Token: mintPsuToken({ name: 'ci-bot', roles: ['Reader'] }), Identity: { Name: 'ci-bot' }, Role: 'Reader' }), /does not hold role Reader/],
    ['a token that is not a JWT', () => ({ Token: 'hello', Identity: { Name: 'Admin' }, Role: 'Administrator' }), /not a compact JWS/],
    ['a name claim too long once normalised', () => ({ Token: mintPsuToken({ name: '\uFDFA'.repeat(15), roles: ['Reader'] }), Identity: { Name: '\uFDFA'.repeat(15) }, Role: 'Reader' }), /not a valid identity name \(.*256 also once normalised/],
  ])('refuses %s with 422 and a reason, writing nothing', async (_what, body, reason) => {
    const before = await counts();
    const response = await t.http.post('/api/v1/apptoken', body(), { session });
    expect(response.status).toBe(422);
    expect(response.body.message).toMatch(reason);
    expect(await counts()).toEqual(before);
  });

  it('refuses a token already stored with 409', async () => {
    const token = mintPsuToken({ name: 'Admin', roles: ['Administrator'] });
    const body = { Token: token, Identity: { Name: 'Admin' }, Role: 'Administrator' };
    expect((await t.http.post('/api/v1/apptoken', body, { session })).status).toBe(201);
    const again = await t.http.post('/api/v1/apptoken', body, { session });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe('this token is already stored here');
    // The same hash with other bytes (re-signed) is the same token record: also 409.
    expect((await t.http.post('/api/v1/apptoken', { ...body, Token: resign(token, { exp: nowSeconds() + 1000 }, PSU_DEFAULT_KEY) }, { session })).status).toBe(409);
  });

  it('refuses to bring back a token that was deleted here (409), whoever re-runs the migration', async () => {
    const token = mintPsuToken({ name: 'Admin', roles: ['Administrator'] });
    const body = { Token: token, Identity: { Name: 'Admin' }, Role: 'Administrator' };
    const stored = await t.http.post('/api/v1/apptoken', body, { session });
    await t.http.post(`/api/v1/apptoken/${stored.body.id}/revoke`, undefined, { session });
    expect((await t.http.delete(`/api/v1/apptoken/${stored.body.id}`, { session })).status).toBe(204);
    const again = await t.http.post('/api/v1/apptoken', body, { session });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/deleted here/);
    expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(401);
  });

  it('lets exactly one of 10 concurrent identical migrations succeed, the rest 409, creating the identity once', async () => {
    const name = `racer-${randomUUID().slice(0, 8)}`;
    const token = mintPsuToken({ name, roles: ['Reader'] });
    const body = { Token: token, Identity: { Name: name }, Role: 'Reader' };
    const statuses = await Promise.all(Array.from({ length: 10 }, () => t.http.post('/api/v1/apptoken', body, { session }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(9);
    const { rows } = await sql.query('SELECT count(*)::int AS n FROM identity WHERE name = $1', [name]);
    expect(rows[0].n).toBe(1);
  });

  it('lets only Administrators migrate (403), and validates the body (400)', async () => {
    await t.http.post('/api/v1/identity', { name: 'op', password: 'op-password', roles: ['Operator'] }, { session });
    const operator = await t.http.signin('op', 'op-password');
    const token = mintPsuToken({ name: 'op', roles: ['Operator'] });
    expect((await t.http.post('/api/v1/apptoken', { Token: token, Identity: { Name: 'op' }, Role: 'Operator' }, { session: operator })).status).toBe(403);
    expect((await t.http.post('/api/v1/apptoken', { Token: token, Identity: { Name: 'op' } }, { session })).status).toBe(400);
    expect((await t.http.post('/api/v1/apptoken', { Token: token, Identity: { Name: 'op' }, Role: 'Operator', Extra: 1 }, { session })).status).toBe(400);
    expect((await t.http.post('/api/v1/apptoken', { Token: token, Identity: { Name: 'op' }, Role: 'Operator', Expiration: 'soon' }, { session })).status).toBe(400);
  });
});
