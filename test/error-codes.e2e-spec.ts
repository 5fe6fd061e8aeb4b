import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { ERROR_CODES } from '../src/common/error-code.js';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { databaseMode } from './support/database.js';
import { DatabaseOutage } from './support/database-outage.js';
import type { HttpResponse } from './support/http.js';
import { mintPsuToken, nowSeconds, resign } from './support/tokens.js';

/** Every error body keeps statusCode, error and message, and adds the stable code scripts branch on. */
function expectError(response: HttpResponse, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(response.body).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.any(String) });
  expect(ERROR_CODES).toContain(response.body.code);
}

describe('stable error codes', () => {
  let t: TestApp;
  let session: string;
  let readerToken: string;

  beforeAll(async () => {
    t = await startApp({ env: { SIGNIN_MAX_FAILURES_PER_USER: '3', SIGNIN_MAX_FAILURES_PER_ADDRESS: '100' } });
    session = await t.http.signin('admin', ADMIN_PASSWORD);
    const reader = await t.http.post('/api/v1/identity', { name: 'codes-reader', password: 'codes-reader-password', roles: ['Reader'] }, { session });
    readerToken = (await t.http.get(`/api/v1/apptoken/grant/${reader.body.id}`, { session })).body.token;
  });
  afterAll(async () => t?.close());

  const grant = async (): Promise<{ id: number; token: string }> => (await t.http.get('/api/v1/apptoken/grant?role=Administrator', { session })).body;

  it('tells missing credentials, a refused sign-in, a dead session and throttling apart', async () => {
    expectError(await t.http.get('/api/v1/identity/my'), 401, 'AUTHENTICATION_REQUIRED');
    expectError(await t.http.get('/api/v1/identity/my', { headers: { authorization: 'Basic YWRtaW46eA==' } }), 401, 'AUTHENTICATION_REQUIRED');
    expectError(await t.http.get('/api/v1/apptoken/verify'), 401, 'AUTHENTICATION_REQUIRED');
    const refused = await t.http.post('/api/v1/signin', { username: 'admin', password: 'not-the-password' });
    expectError(refused, 401, 'INVALID_CREDENTIALS');
    expect(refused.body.errorMessage).toBe('Invalid user name or password');
    expectError(await t.http.post('/api/v1/signin', { username: 'nobody-here', password: 'x' }), 401, 'INVALID_CREDENTIALS');
    expectError(await t.http.get('/api/v1/identity/my', { session: 'not-a-session' }), 401, 'SESSION_EXPIRED');
    for (let i = 0; i < 3; i++) await t.http.post('/api/v1/signin', { username: 'throttled-user', password: `wrong-${i}` });
    const throttled = await t.http.post('/api/v1/signin', { username: 'throttled-user', password: 'wrong' });
    expectError(throttled, 429, 'THROTTLED');
    expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(throttled.body.errorMessage).toBe('Too many failed sign-ins');
  });

  it('tells an expired, a revoked and an invalid Bearer token apart, on the API and on the verify route', async () => {
    const { id, token } = await grant();
    const expired = resign(token, { exp: nowSeconds() - 3600 }, TEST_SIGNING_KEY);
    const foreign = resign(token, {}, 'another-signing-key-0123456789abcdef0123');
    for (const path of ['/api/v1/identity/my', '/api/v1/apptoken/verify']) {
      expectError(await t.http.get(path, { token: expired }), 401, 'TOKEN_EXPIRED');
      expectError(await t.http.get(path, { token: foreign }), 401, 'TOKEN_INVALID');
      expectError(await t.http.get(path, { token: 'not.a.token' }), 401, 'TOKEN_INVALID');
    }
    expect((await t.http.post(`/api/v1/apptoken/${id}/revoke`, undefined, { session })).status).toBe(200);
    expectError(await t.http.get('/api/v1/identity/my', { token }), 401, 'TOKEN_REVOKED');
    expectError(await t.http.get('/api/v1/apptoken/verify', { token }), 401, 'TOKEN_REVOKED');
    const deleted = await grant();
    expect((await t.http.delete(`/api/v1/apptoken/${deleted.id}`, { session })).status).toBeLessThan(300);
    expectError(await t.http.get('/api/v1/identity/my', { token: deleted.token }), 401, 'TOKEN_INVALID');
  });

  it('says IDENTITY_DISABLED for a token of a disabled identity', async () => {
    const bot = await t.http.post('/api/v1/identity', { name: 'codes-bot', source: 'service', roles: ['Reader'] }, { session });
    const { token } = (await t.http.get(`/api/v1/apptoken/grant/${bot.body.id}`, { session })).body;
    expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(200);
    expect((await t.http.patch(`/api/v1/identity/${bot.body.id}`, { disabled: true }, { session })).status).toBe(200);
    expectError(await t.http.get('/api/v1/identity/my', { token }), 401, 'IDENTITY_DISABLED');
  });

  it('says ROLE_REQUIRED for a lacking role, NO_ENDPOINT_RULE and BAD_REQUEST on the verify route, CROSS_ORIGIN_REFUSED for a foreign origin', async () => {
    expectError(await t.http.post('/api/v1/role', { name: 'Payroll' }, { token: readerToken }), 403, 'ROLE_REQUIRED');
    expectError(await t.http.get('/api/v1/apptoken/verify?role=Payroll', { token: readerToken }), 403, 'ROLE_REQUIRED');
    expectError(await t.http.get('/api/v1/apptoken/grant?role=Administrator', { token: readerToken }), 403, 'ROLE_REQUIRED');
    const original = (uri: string) => ({ token: readerToken, headers: { 'x-original-uri': uri, 'x-original-method': 'GET' } });
    expectError(await t.http.get('/api/v1/apptoken/verify', original('/unmatched/path')), 403, 'NO_ENDPOINT_RULE');
    expectError(await t.http.get('/api/v1/apptoken/verify', original('/a/../b')), 400, 'BAD_REQUEST');
    expectError(await t.http.get('/api/v1/apptoken/verify?role=Reader', original('/a')), 400, 'BAD_REQUEST');
    expectError(await t.http.post('/api/v1/signout', undefined, { token: readerToken }), 400, 'BAD_REQUEST');
    expectError(await t.http.get('/api/v1/role/%ED%A0%80', { session }), 400, 'BAD_REQUEST');
    expectError(await t.http.post('/api/v1/role', { name: 'Payroll' }, { session, headers: { origin: 'https://evil.example' } }), 403, 'CROSS_ORIGIN_REFUSED');
  });

  it('says VALIDATION_FAILED, MALFORMED_BODY, PAYLOAD_TOO_LARGE and UNSUPPORTED_MEDIA_TYPE for what the request carries', async () => {
    expectError(await t.http.post('/api/v1/role', { name: 'Payroll', colour: 'red' }, { session }), 400, 'VALIDATION_FAILED');
    expectError(await t.http.get('/api/v1/apptoken/abc', { session }), 400, 'VALIDATION_FAILED');
    expectError(await t.http.get('/api/v1/apptoken/grant?lifespanDays=-4', { session }), 400, 'VALIDATION_FAILED');
    const json = { session, headers: { 'content-type': 'application/json' } };
    expectError(await t.http.request('POST', '/api/v1/role', { ...json, rawBody: '{"name":' }), 400, 'MALFORMED_BODY');
    expectError(await t.http.request('POST', '/api/v1/role', { ...json, rawBody: '{"__proto__":{"x":1}}' }), 400, 'MALFORMED_BODY');
    expectError(await t.http.request('POST', '/api/v1/role', { ...json, rawBody: JSON.stringify({ name: 'x'.repeat(200_000) }) }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await t.http.request('POST', '/api/v1/role', { session, rawBody: 'name=Payroll', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  /** One raw HTTP exchange (node's client refuses to send what Node's parser must refuse). */
  async function raw(request: string): Promise<{ status: number; body: any }> {
    const { port } = new URL(t.baseUrl);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.write(request);
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return { status: Number(text.slice(9, 12)), body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) };
  }

  it('answers what Node\'s HTTP parser refuses, and a URL fastify cannot route, with a code (and never echoes the URL)', async () => {
    const method = await raw('FOOBAR /api/v1/alive HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(method).toMatchObject({ status: 400, body: { statusCode: 400, code: 'MALFORMED_BODY' } });
    const headers = await raw(`GET /api/v1/alive HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(headers).toMatchObject({ status: 431, body: { statusCode: 431, code: 'PAYLOAD_TOO_LARGE' } });
    const { token } = await grant();
    const pasted = await t.http.get(`/api/v1/apptoken/${token}`, { session });
    expectError(pasted, 400, 'BAD_REQUEST');
    expect(pasted.headers.get('x-request-id')).toBe(pasted.body.requestId);
    expect(JSON.stringify(pasted.body)).not.toContain(token.split('.')[2]);
    expectError(await t.http.get('/api/v1/identity/%E0%A4%A', { session }), 400, 'BAD_REQUEST');
  });

  it('says NOT_FOUND, CONFLICT, LAST_ADMINISTRATOR and MIGRATION_REFUSED for what the change meets', async () => {
    expectError(await t.http.get('/api/v1/apptoken/999999', { session }), 404, 'NOT_FOUND');
    expectError(await t.http.get('/api/v1/no-such-route', { session }), 404, 'NOT_FOUND');
    expect((await t.http.post('/api/v1/role', { name: 'Payroll' }, { session })).status).toBe(201);
    expectError(await t.http.post('/api/v1/role', { name: 'payroll' }, { session }), 409, 'CONFLICT');
    expectError(await t.http.delete('/api/v1/role/Administrator', { session }), 409, 'CONFLICT');
    expectError(await t.http.patch('/api/v1/identity/1', { disabled: true }, { session }), 409, 'LAST_ADMINISTRATOR');
    const psuToken = mintPsuToken({ name: 'psu-user', roles: ['Reader'] });
    expectError(await t.http.post('/api/v1/apptoken', { Token: psuToken, Identity: { Name: 'psu-user' }, Role: 'Reader' }, { session }), 422, 'MIGRATION_REFUSED');
  });
});

const serverOnly = databaseMode() === 'server' ? describe : describe.skip;

serverOnly('stable error codes with the database down', () => {
  let t: TestApp;
  let outage: DatabaseOutage;

  beforeAll(async () => {
    t = await startApp();
    outage = await DatabaseOutage.of(t.db);
  });
  afterAll(async () => {
    await outage?.dispose();
    await t?.close();
  });

  it('says DATABASE_UNAVAILABLE (503, Retry-After) while PostgreSQL refuses connections', async () => {
    const session = await t.http.signin('admin', ADMIN_PASSWORD);
    await outage.begin();
    const down = await t.http.get('/api/v1/identity/my', { session });
    expectError(down, 503, 'DATABASE_UNAVAILABLE');
    expect(down.headers.get('retry-after')).toBe('5');
    expectError(await t.http.post('/api/v1/signin', { username: 'admin', password: ADMIN_PASSWORD }), 503, 'DATABASE_UNAVAILABLE');
  });
});
