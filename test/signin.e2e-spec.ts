import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { connect } from './support/database.js';
import { sessionCookie } from './support/http.js';
import { SessionHousekeepingService } from '../src/auth/session-housekeeping.service.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

describe('sign-in, sessions and sign-out', () => {
  let t: TestApp;
  let sql: pg.Client;

  beforeAll(async () => {
    t = await startApp({ env: { SIGNIN_MAX_FAILURES_PER_USER: '1000', SIGNIN_MAX_FAILURES_PER_ADDRESS: '1000' } });
    sql = await connect(t.db.url);
    const admin = await t.http.signin('admin', ADMIN_PASSWORD);
    for (const [name, role] of [['reader1', 'Reader'], ['operator1', 'Operator']]) {
      const created = await t.http.post('/api/v1/identity', { name, password: `${name}-password`, roles: [role] }, { session: admin });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  it('signs in with the PascalCase body PowerShell sends, and the user name in any case', async () => {
    const response = await t.http.post('/api/v1/signin', { UserName: 'ADMIN', Password: ADMIN_PASSWORD });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ name: 'admin', roles: ['Administrator', 'Operator', 'Reader'], source: 'local' });
    expect(response.body).not.toHaveProperty('passwordHash');
    expect(response.text).not.toContain('argon2');
    expect(sessionCookie(response.headers)).toBeDefined();
  });

  it('sets an HttpOnly, SameSite=Strict cookie, Secure only over HTTPS', async () => {
    const plain = await t.http.post('/api/v1/signin', { username: 'admin', password: ADMIN_PASSWORD });
    const cookie = plain.headers.getSetCookie().find((c) => c.startsWith('apptoken_session='))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/; Secure/);
    // X-Forwarded-Proto is not believed from an untrusted peer (TRUST_PROXY=false by default).
    const spoofed = await t.http.post('/api/v1/signin', { username: 'admin', password: ADMIN_PASSWORD }, { headers: { 'x-forwarded-proto': 'https' } });
    expect(spoofed.headers.getSetCookie().join()).not.toMatch(/Secure/);
  });

  it('gives each sign-in a new session, whatever cookie the client sends', async () => {
    const first = await t.http.signin('admin', ADMIN_PASSWORD);
    const second = await t.http.post('/api/v1/signin', { username: 'admin', password: ADMIN_PASSWORD }, { session: first });
    expect(sessionCookie(second.headers)).not.toBe(first);
  });

  it('answers unknown users and wrong passwords with the same 401 body, including PSU\'s errorMessage', async () => {
    const unknown = await t.http.post('/api/v1/signin', { username: 'nobody-here', password: 'whatever-password' });
    const wrong = await t.http.post('/api/v1/signin', { username: 'admin', password: 'wrong-password' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.body).toEqual({ statusCode: 401, error: 'Unauthorized', code: 'INVALID_CREDENTIALS', message: 'Invalid user name or password', errorMessage: 'Invalid user name or password' });
    expect(sessionCookie(wrong.headers)).toBeUndefined();
  });

  it('spends about as long on an unknown user as on a wrong password (a dummy hash is verified)', async () => {
    const time = async (username: string) => {
      const started = performance.now();
      await t.http.post('/api/v1/signin', { username, password: 'wrong-password' });
      return performance.now() - started;
    };
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 9; i++) {
      wrong.push(await time('reader1'));
      unknown.push(await time(`ghost-${i}`));
    }
    // Without the dummy hash an unknown user answers in ~1 ms against ~20 ms; the margin absorbs noise.
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.5);
  });

  it('refuses a disabled identity and a service identity with the same 401', async () => {
    const admin = await t.http.signin('admin', ADMIN_PASSWORD);
    const svc = await t.http.post('/api/v1/identity', { name: 'robot', source: 'service', roles: 'Reader' }, { session: admin });
    expect(svc.status).toBe(201);
    const response = await t.http.post('/api/v1/signin', { username: 'robot', password: 'anything-at-all' });
    expect(response.status).toBe(401);
    expect(response.body.message).toBe('Invalid user name or password');
  });

  it('ends the session on sign-out, so a replayed cookie gets 401 (POST and GET)', async () => {
    for (const method of ['POST', 'GET']) {
      const session = await t.http.signin('reader1', 'reader1-password');
      expect((await t.http.get('/api/v1/identity/my', { session })).status).toBe(200);
      const out = await t.http.request(method, '/api/v1/signout', { session });
      expect(out.status).toBe(204);
      expect(out.headers.getSetCookie().join()).toMatch(/apptoken_session=;/);
      const replay = await t.http.get('/api/v1/identity/my', { session });
      expect(replay.status).toBe(401);
      expect(replay.body.message).toMatch(/sign in again/);
    }
  });

  it('ends a session idle longer than SESSION_TIMEOUT_MINUTES, and one past 12 hours whatever its activity', async () => {
    const idle = await t.http.signin('reader1', 'reader1-password');
    await sql.query(`UPDATE session SET last_seen_at = now() - interval '26 minutes' WHERE identity_id = (SELECT id FROM identity WHERE name = 'reader1')`);
    expect((await t.http.get('/api/v1/identity/my', { session: idle })).status).toBe(401);

    const old = await t.http.signin('reader1', 'reader1-password');
    await sql.query(`UPDATE session SET expires_at = now() - interval '1 second' WHERE identity_id = (SELECT id FROM identity WHERE name = 'reader1')`);
    expect((await t.http.get('/api/v1/identity/my', { session: old })).status).toBe(401);

    const fresh = await t.http.signin('reader1', 'reader1-password');
    const { rows } = await sql.query(`SELECT expires_at - created_at AS span FROM session WHERE identity_id = (SELECT id FROM identity WHERE name = 'reader1')`);
    expect(rows[0].span).toMatchObject({ hours: 12 });
    expect((await t.http.get('/api/v1/identity/my', { session: fresh })).status).toBe(200);
  });

  it('purges ended sessions and old sign-in failures', async () => {
    await t.http.signin('reader1', 'reader1-password');
    await sql.query(`UPDATE session SET last_seen_at = now() - interval '2 hours' WHERE identity_id = (SELECT id FROM identity WHERE name = 'reader1')`);
    await sql.query(`UPDATE signin_failure SET at = now() - interval '1 day'`);
    const purged = await t.app.get(SessionHousekeepingService).run();
    expect(purged.sessions).toBeGreaterThanOrEqual(1);
    expect(purged.failures).toBeGreaterThanOrEqual(1);
    const { rows } = await sql.query(`SELECT (SELECT count(*)::int FROM session WHERE identity_id = (SELECT id FROM identity WHERE name = 'reader1')) AS s, (SELECT count(*)::int FROM signin_failure) AS f`);
    expect(rows[0]).toEqual({ s: 0, f: 0 });
  });

  it('slides the idle timeout on activity', async () => {
    const session = await t.http.signin('operator1', 'operator1-password');
    await sql.query(`UPDATE session SET last_seen_at = now() - interval '20 minutes' WHERE identity_id = (SELECT id FROM identity WHERE name = 'operator1')`);
    expect((await t.http.get('/api/v1/identity/my', { session })).status).toBe(200);
    const { rows } = await sql.query(`SELECT now() - last_seen_at < interval '1 minute' AS fresh FROM session WHERE identity_id = (SELECT id FROM identity WHERE name = 'operator1')`);
    expect(rows[0].fresh).toBe(true);
  });

  it('ends the sessions of an identity that is disabled', async () => {
    const admin = await t.http.signin('admin', ADMIN_PASSWORD);
    const created = await t.http.post('/api/v1/identity', { name: 'temp-user', password: 'temp-user-password', roles: ['Reader'] }, { session: admin });
    const session = await t.http.signin('temp-user', 'temp-user-password');
    expect((await t.http.patch(`/api/v1/identity/${created.body.id}`, { disabled: true }, { session: admin })).status).toBe(200);
    expect((await t.http.get('/api/v1/identity/my', { session })).status).toBe(401);
    const { rows } = await sql.query('SELECT count(*)::int AS n FROM session WHERE identity_id = $1', [created.body.id]);
    expect(rows[0].n).toBe(0);
  });

  it('refuses a cookie-authenticated unsafe request from another origin, and lets PowerShell/curl (no Origin) through', async () => {
    const admin = await t.http.signin('admin', ADMIN_PASSWORD);
    const body = { name: 'csrf-role' };
    const evil = await t.http.post('/api/v1/role', body, { session: admin, headers: { origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
    expect(evil.body.message).toMatch(/Cross-origin/);
    const evilReferer = await t.http.post('/api/v1/role', body, { session: admin, headers: { referer: 'https://evil.example/page' } });
    expect(evilReferer.status).toBe(403);
    const nullOrigin = await t.http.post('/api/v1/role', body, { session: admin, headers: { origin: 'null' } });
    expect(nullOrigin.status).toBe(403);
    const same = await t.http.post('/api/v1/role', body, { session: admin, headers: { origin: t.baseUrl } });
    expect(same.status).toBe(201);
    const none = await t.http.post('/api/v1/role', { name: 'csrf-role-2' }, { session: admin });
    expect(none.status).toBe(201);
    // Safe methods are not refused: reading is not a state change.
    expect((await t.http.get('/api/v1/role', { session: admin, headers: { origin: 'https://evil.example' } })).status).toBe(200);
  });

  it('refuses cookie requests a browser marks as cross-site or same-site (Sec-Fetch-Site), including the GETs that grant and sign out', async () => {
    const admin = await t.http.signin('admin', ADMIN_PASSWORD);
    expect((await t.http.post('/api/v1/role', { name: 'from-a-sibling' }, { session: admin, headers: { 'sec-fetch-site': 'same-site' } })).status).toBe(403);
    expect((await t.http.get('/api/v1/apptoken/grant', { session: admin, headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await t.http.get('/api/v1/apptoken/grant/1', { session: admin, headers: { 'sec-fetch-site': 'same-site' } })).status).toBe(403);
    expect((await t.http.get('/api/v1/apptoken/grant', { session: admin, headers: { referer: 'http://elsewhere.example/' } })).status).toBe(403);
    expect((await t.http.get('/api/v1/signout', { session: admin, headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await t.http.get('/api/v1/identity/my', { session: admin })).status).toBe(200);
    // Reading stays open, the Swagger UI (same-origin) works, and so do PowerShell and curl (no such headers).
    expect((await t.http.get('/api/v1/role', { session: admin, headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
    expect((await t.http.get('/api/v1/apptoken/grant', { session: admin, headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
    expect((await t.http.get('/api/v1/apptoken/grant', { session: admin })).status).toBe(200);
  });

  it('audits every sign-in, failure and sign-out, without the password or an unknown user name', async () => {
    const session = await t.http.signin('admin', ADMIN_PASSWORD);
    await t.http.post('/api/v1/signin', { username: 'operator1', password: 'not-the-password' });
    await t.http.post('/api/v1/signin', { username: 'my-secret-typed-in-the-wrong-box', password: 'x' });
    const events = await t.http.get('/api/v1/audit?action=signin.&pageSize=500', { session });
    expect(events.status).toBe(200);
    const failedForOperator = events.body.find((e: any) => e.action === 'signin.failed' && e.targetIdentity?.name === 'operator1');
    expect(failedForOperator).toMatchObject({ detail: { reason: 'wrong password' }, address: '127.0.0.1' });
    const unknown = events.body.find((e: any) => e.action === 'signin.failed' && e.detail?.reason === 'unknown user');
    expect(unknown).toMatchObject({ actor: null, targetIdentity: null });
    expect(events.body.some((e: any) => e.action === 'signin.succeeded' && e.actor?.name === 'admin')).toBe(true);
    expect(events.text).not.toContain('my-secret-typed-in-the-wrong-box');
    expect(events.text).not.toContain('not-the-password');
    expect(Number(events.headers.get('x-total-count'))).toBeGreaterThan(3);
    const { rows } = await sql.query(`SELECT count(*)::int AS n FROM audit_event WHERE detail::text LIKE '%not-the-password%' OR actor_name LIKE '%wrong-box%'`);
    expect(rows[0].n).toBe(0);
  });

  it('validates the body: missing fields and unknown properties are 400', async () => {
    expect((await t.http.post('/api/v1/signin', { username: 'admin' })).status).toBe(400);
    const extra = await t.http.post('/api/v1/signin', { username: 'admin', password: ADMIN_PASSWORD, remember: true });
    expect(extra.status).toBe(400);
    expect(extra.body.message).toBe('property remember should not exist');
    const twice = await t.http.post('/api/v1/signin', { username: 'admin', UserName: 'admin', password: ADMIN_PASSWORD });
    expect(twice.status).toBe(400);
    expect(twice.body.message).toMatch(/more than once/);
  });
});

describe('sign-in throttling', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ env: { SIGNIN_MAX_FAILURES_PER_USER: '3', SIGNIN_MAX_FAILURES_PER_ADDRESS: '6', SIGNIN_THROTTLE_WINDOW_SECONDS: '3' } });
  });
  afterAll(async () => t?.close());

  it('answers 429 with Retry-After after repeated failures for one user name, even to the right password, until the window passes', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await t.http.post('/api/v1/signin', { username: 'admin', password: `wrong-${i}` })).status).toBe(401);
    }
    const throttled = await t.http.post('/api/v1/signin', { username: 'Admin', password: ADMIN_PASSWORD });
    expect(throttled.status).toBe(429);
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    expect(throttled.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    // Throttled attempts are not counted, so the lock-out ends one window after the failures.
    for (let i = 0; i < 5; i++) await t.http.post('/api/v1/signin', { username: 'admin', password: 'still-wrong' });
    await new Promise((resolve) => setTimeout(resolve, 3200));
    expect((await t.http.post('/api/v1/signin', { username: 'admin', password: ADMIN_PASSWORD })).status).toBe(200);
  });

  it('limits a parallel burst like a sequence: no more passwords checked than the limit', async () => {
    await new Promise((resolve) => setTimeout(resolve, 3200));
    const attempts = [...Array.from({ length: 19 }, (_, i) => ({ username: 'burst-target', password: `wrong-${i}` })), { username: 'admin', password: ADMIN_PASSWORD }];
    const statuses = await Promise.all(attempts.map((body) => t.http.post('/api/v1/signin', { ...body, username: 'admin' }).then((r) => r.status)));
    // 3 per user name: at most three of the twenty had their password checked.
    expect(statuses.filter((status) => status !== 429).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(17);
  });

  it('throttles one address that tries many user names', async () => {
    await new Promise((resolve) => setTimeout(resolve, 3200));
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await t.http.post('/api/v1/signin', { username: `spray-${i}`, password: 'password1' })).status);
    }
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses.slice(6)).toEqual([429, 429]);
  });
});

describe('the session cookie over HTTPS (COOKIE_SECURE=true)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ env: { COOKIE_SECURE: 'true' } });
  });
  afterAll(async () => t?.close());

  it('is Secure and __Host- prefixed, and a plain-named cookie (as a sibling subdomain could plant) is not accepted', async () => {
    const response = await t.http.post('/api/v1/signin', { username: 'admin', password: ADMIN_PASSWORD });
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-apptoken_session='))!;
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Domain=/i);
    const secret = /^__Host-apptoken_session=([^;]*)/.exec(cookie)![1];
    expect((await t.http.get('/api/v1/identity/my', { headers: { cookie: `__Host-apptoken_session=${secret}` } })).status).toBe(200);
    expect((await t.http.get('/api/v1/identity/my', { session: secret })).status).toBe(401);
  });
});
