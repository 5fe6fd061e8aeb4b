import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { HttpClient } from './support/http.js';
import { killAll, startServer, type RunningServer } from './support/process.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const STRONG_KEY = 'a-strong-signing-key-of-more-than-32-bytes';
const WRONG_PASSWORD = 'Wr0ng-password-that-must-never-be-logged';

/**
 * TRUST_PROXY as a list of proxy addresses: X-Forwarded-For and -Proto are believed from those peers only.
 * The test client connects from 127.0.0.1, so it is the proxy when 127.0.0.1 is listed, and a client otherwise.
 */
describe('TRUST_PROXY with a list of trusted proxies (node dist/main.js)', () => {
  let db: TestDatabase;
  let server: RunningServer | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  afterAll(async () => {
    killAll();
    await db?.drop();
  });

  const start = (trustProxy: string, database = db) =>
    startServer({
      DATABASE_URL: database.url,
      JWT_SIGNING_KEY: STRONG_KEY,
      ADMIN_PASSWORD: 'admin-password-for-proxy-tests',
      TRUST_PROXY: trustProxy,
      SIGNIN_MAX_FAILURES_PER_ADDRESS: '3',
      SIGNIN_MAX_FAILURES_PER_USER: '100',
    });
  /** The server's JSON log lines with this msg, once there are `count` of them (stdout reaches us a little after the response). */
  const logLines = async (running: RunningServer, msg: string, count: number) => {
    const find = () =>
      running
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === msg);
    for (let waited = 0; find().length < count && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    return find();
  };
  const signin = (http: HttpClient, username: string, headers: Record<string, string>) =>
    http.post('/api/v1/signin', { username, password: WRONG_PASSWORD }, { headers }).then((response) => response.status);

  it('counts failures against the address a trusted proxy forwards, and logs the throttled attempt with a message and no password', async () => {
    server = await start('10.0.0.0/8, 127.0.0.1');
    const http = new HttpClient(server.baseUrl);
    const client = { 'x-forwarded-for': '203.0.113.10' };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await signin(http, `proxied-${i}`, client));
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Another client behind the same proxy is not locked out with it.
    expect(await signin(http, 'proxied-other', { 'x-forwarded-for': '203.0.113.11' })).toBe(401);
    // A client's own X-Forwarded-For entry in front of the proxy's does not move it to a fresh address.
    expect(await signin(http, 'proxied-spoof', { 'x-forwarded-for': '198.51.100.99, 203.0.113.10' })).toBe(429);

    const throttled = await logLines(server, 'sign-in throttled', 2);
    expect(throttled).toHaveLength(2);
    expect(throttled[0]).toMatchObject({ level: 40, context: 'AuthService', address: '203.0.113.10' });
    expect(throttled[0].usernameKey).toBe(createHash('sha256').update('proxied-3').digest('hex'));
    expect(server.output()).not.toContain(WRONG_PASSWORD);
    expect(server.output()).not.toContain('proxied-3');
  });

  it('believes X-Forwarded-Proto from a trusted proxy only', async () => {
    server = await start('127.0.0.1');
    const viaProxy = await new HttpClient(server.baseUrl).post('/api/v1/signin', { username: 'admin', password: 'admin-password-for-proxy-tests' }, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.20' } });
    expect(viaProxy.headers.getSetCookie().join()).toMatch(/^__Host-apptoken_session=.*; Secure/);
    await server.stop();

    server = await start('10.0.0.0/8');
    const direct = await new HttpClient(server.baseUrl).post('/api/v1/signin', { username: 'admin', password: 'admin-password-for-proxy-tests' }, { headers: { 'x-forwarded-proto': 'https' } });
    expect(direct.status).toBe(200);
    expect(direct.headers.getSetCookie().join()).not.toMatch(/Secure|__Host-/);
  });

  it('ignores X-Forwarded-For from a peer that is not a listed proxy: every failure counts against the peer', async () => {
    server = await start('10.0.0.0/8,fd00::/8');
    const http = new HttpClient(server.baseUrl);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await signin(http, `direct-${i}`, { 'x-forwarded-for': `198.51.100.${i + 1}` }));
    expect(statuses).toEqual([401, 401, 401, 429]);
    const throttled = await logLines(server, 'sign-in throttled', 1);
    expect(throttled.map((line) => line.address)).toEqual(['127.0.0.1']);
  });

  it('counts an IPv6 client by its /64, so fresh addresses from one network do not buy fresh attempts', async () => {
    server = await start('127.0.0.1');
    const http = new HttpClient(server.baseUrl);
    const statuses = [];
    for (let i = 1; i <= 4; i++) statuses.push(await signin(http, `six-${i}`, { 'x-forwarded-for': `2001:db8:7:7::${i}` }));
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(await signin(http, 'six-other', { 'x-forwarded-for': '2001:db8:7:8::1' })).toBe(401);
  });

  it('records the peer, not made-up text, when a believed X-Forwarded-For entry is not an address (TRUST_PROXY=true)', async () => {
    // Its own database: 127.0.0.1 has used up its failures in the tests above.
    const fresh = await createTestDatabase();
    try {
      server = await start('true', fresh);
      expect(server.output()).toMatch(/"level":40.*TRUST_PROXY=true believes X-Forwarded-For from any client/);
      const http = new HttpClient(server.baseUrl);
      expect(await signin(http, 'junk-sender', { 'x-forwarded-for': 'x'.repeat(100) })).toBe(401);
      const session = await http.signin('admin', 'admin-password-for-proxy-tests');
      const audit = await http.get<Array<{ action: string; address: string }>>('/api/v1/audit?action=signin.failed', { session });
      expect(audit.status).toBe(200);
      expect(audit.body.map((event) => event.address)).toEqual(['127.0.0.1']);
      expect(JSON.stringify(audit.body)).not.toContain('xxxxxxxx');
    } finally {
      await server?.stop();
      server = undefined;
      await fresh.drop();
    }
  });
});
