import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MetricsListener } from '../src/metrics/metrics-listener.js';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { runToExit } from './support/process.js';
import { mintPsuToken, nowSeconds } from './support/tokens.js';

type Samples = Map<string, number>;

/** The samples of a Prometheus text exposition, keyed `name{label="value",...}` as written. */
function parse(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const requests = (method: string, route: string, status: number) => `apptoken_http_requests_total{method="${method}",route="${route}",status="${status}"}`;
const decisions = (via: string, outcome: string) => `apptoken_auth_decisions_total{via="${via}",outcome="${outcome}"}`;
const HITS = 'apptoken_token_cache_hits_total';
const MISSES = 'apptoken_token_cache_misses_total';

describe('metrics (GET /metrics, Prometheus text)', () => {
  let t: TestApp;
  let admin: string;
  let adminToken: string;
  let reader: string;
  let readerToken: string;

  /** Scrapes as the Administrator; the scrape itself is counted only after it answers. */
  const scrape = async (): Promise<Samples> => {
    const response = await t.http.get('/metrics', { session: admin });
    expect(response.status).toBe(200);
    return parse(response.text);
  };
  /** How much each sample grew while `act` ran (samples that did not move are left out). */
  const delta = async (act: () => Promise<unknown>): Promise<Record<string, number>> => {
    const before = await scrape();
    await act();
    const after = await scrape();
    const moved: Record<string, number> = {};
    for (const [key, value] of after) {
      const grown = value - (before.get(key) ?? 0);
      // The scrape before this one, its own request, and the clock-driven process metrics are noise here.
      if (grown !== 0 && key.startsWith('apptoken_') && !key.includes('route="/metrics"') && !key.startsWith('apptoken_db_pool')) moved[key] = grown;
    }
    return moved;
  };

  beforeAll(async () => {
    t = await startApp();
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    adminToken = (await t.http.get('/api/v1/apptoken/grant', { session: admin })).body.token;
    expect((await t.http.post('/api/v1/identity', { name: 'metrics-reader', password: 'reader-password-1', roles: ['Reader'] }, { session: admin })).status).toBe(201);
    reader = await t.http.signin('metrics-reader', 'reader-password-1');
    readerToken = (await t.http.get('/api/v1/apptoken/grant', { session: reader })).body.token;
  });
  afterAll(async () => t?.close());

  it('serves Prometheus text to an Administrator, by session or by token, with every metric the dashboards name', async () => {
    const response = await t.http.get('/metrics', { token: adminToken });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    for (const name of [
      'apptoken_http_requests_total',
      'apptoken_http_request_duration_seconds',
      'apptoken_auth_decisions_total',
      'apptoken_token_cache_hits_total',
      'apptoken_token_cache_misses_total',
      'apptoken_invalidation_listener_up',
      'apptoken_db_pool_connections',
      'apptoken_password_hash_queue',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(response.text).toContain(`# TYPE ${name} `);
    }
    const samples = parse(response.text);
    expect(samples.get('apptoken_invalidation_listener_up')).toBe(1);
    expect(samples.get('apptoken_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    expect(samples.get('apptoken_db_pool_connections{state="waiting"}')).toBe(0);
    expect(samples.get('apptoken_password_hash_queue{state="running"}')).toBe(0);
    expect(samples.get('apptoken_password_hash_queue{state="waiting"}')).toBe(0);
    expect((await t.http.get('/metrics', { session: admin })).status).toBe(200);
  });

  it('refuses a Reader (403, by session or token) and a caller without credentials (401)', async () => {
    expect((await t.http.get('/metrics', { session: reader })).status).toBe(403);
    expect((await t.http.get('/metrics', { token: readerToken })).status).toBe(403);
    expect((await t.http.get('/metrics')).status).toBe(401);
    expect((await t.http.get('/metrics', { token: 'not-a-token' })).status).toBe(401);
  });

  it('counts 200, 401 and 403 under the route pattern, never the raw path, and unmatched paths under one label', async () => {
    const id = (await t.http.get('/api/v1/identity/my', { session: reader })).body.id as number;
    const moved = await delta(async () => {
      expect((await t.http.get(`/api/v1/identity/${id}`, { session: admin })).status).toBe(200);
      expect((await t.http.get(`/api/v1/identity/${id}`)).status).toBe(401);
      expect((await t.http.delete(`/api/v1/identity/${id}`, { token: readerToken })).status).toBe(403);
      expect((await t.http.get('/no/such/path/12345')).status).toBe(404);
    });
    expect(moved).toMatchObject({
      [requests('GET', '/api/v1/identity/:id', 200)]: 1,
      [requests('GET', '/api/v1/identity/:id', 401)]: 1,
      [requests('DELETE', '/api/v1/identity/:id', 403)]: 1,
      [requests('GET', 'unmatched', 404)]: 1,
      'apptoken_http_request_duration_seconds_count{method="GET",route="/api/v1/identity/:id"}': 2,
      'apptoken_http_request_duration_seconds_count{method="GET",route="unmatched"}': 1,
    });
    expect(Object.keys(moved).filter((key) => key.includes(`/api/v1/identity/${id}"`) || key.includes('12345'))).toEqual([]);
  });

  it('counts each authentication decision once, with its outcome: ok, invalid, expired, revoked, forbidden', async () => {
    const granted = (await t.http.get('/api/v1/apptoken/grant', { session: admin })).body;
    expect((await t.http.post(`/api/v1/apptoken/${granted.id}/revoke`, undefined, { session: admin })).status).toBe(200);
    const expired = mintPsuToken({ name: 'admin', roles: ['Administrator'], nbf: nowSeconds() - 7200, exp: nowSeconds() - 3600 }, TEST_SIGNING_KEY);
    const moved = await delta(async () => {
      expect((await t.http.get('/api/v1/identity/my', { token: adminToken })).status).toBe(200);
      expect((await t.http.get('/api/v1/identity/my', { token: 'a.b.c' })).status).toBe(401);
      expect((await t.http.get('/api/v1/identity/my', { token: expired })).status).toBe(401);
      expect((await t.http.get('/api/v1/identity/my', { token: granted.token })).status).toBe(401);
      expect((await t.http.get('/api/v1/audit', { token: readerToken })).status).toBe(403);
      expect((await t.http.get('/api/v1/audit', { session: reader })).status).toBe(403);
      expect((await t.http.get('/api/v1/identity/my', { session: 'no-such-session' })).status).toBe(401);
      // No credential at all: refused, but no decision about one.
      expect((await t.http.get('/api/v1/identity/my')).status).toBe(401);
    });
    const counted = Object.fromEntries(Object.entries(moved).filter(([key]) => key.startsWith('apptoken_auth_decisions_total')));
    // The two scrapes in delta() are session decisions too (ok), but their own.
    expect(counted).toEqual({
      [decisions('token', 'ok')]: 1,
      [decisions('token', 'invalid')]: 1,
      [decisions('token', 'expired')]: 1,
      [decisions('token', 'revoked')]: 1,
      [decisions('token', 'forbidden')]: 1,
      [decisions('session', 'forbidden')]: 1,
      [decisions('session', 'invalid')]: 1,
      [decisions('session', 'ok')]: 1,
    });
  });

  it('counts forward-auth decisions as gateway: ok, invalid, revoked, forbidden', async () => {
    const granted = (await t.http.get('/api/v1/apptoken/grant', { session: admin })).body;
    expect((await t.http.post(`/api/v1/apptoken/${granted.id}/revoke`, undefined, { session: admin })).status).toBe(200);
    const moved = await delta(async () => {
      expect((await t.http.get('/api/v1/apptoken/verify', { token: readerToken })).status).toBe(200);
      expect((await t.http.get('/api/v1/apptoken/verify')).status).toBe(401);
      expect((await t.http.get('/api/v1/apptoken/verify', { token: granted.token })).status).toBe(401);
      expect((await t.http.get('/api/v1/apptoken/verify?role=Payroll', { token: readerToken })).status).toBe(403);
    });
    expect(moved).toMatchObject({
      [decisions('gateway', 'ok')]: 1,
      [decisions('gateway', 'invalid')]: 1,
      [decisions('gateway', 'revoked')]: 1,
      [decisions('gateway', 'forbidden')]: 1,
      [requests('GET', '/api/v1/apptoken/verify', 200)]: 1,
      [requests('GET', '/api/v1/apptoken/verify', 401)]: 2,
      [requests('GET', '/api/v1/apptoken/verify', 403)]: 1,
    });
    expect(Object.keys(moved).filter((key) => key.includes('via="token"'))).toEqual([]);
  });

  it('counts a new token\'s first use as a cache miss and its second as a hit', async () => {
    const { token } = (await t.http.get('/api/v1/apptoken/grant', { session: admin })).body;
    // After the grant's own NOTIFY has passed: a load it overlaps is not kept.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const first = await delta(async () => expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(200));
    expect(first[MISSES]).toBe(1);
    expect(first[HITS]).toBeUndefined();
    const second = await delta(async () => expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(200));
    expect(second[HITS]).toBe(1);
    expect(second[MISSES]).toBeUndefined();
  });
});

describe('metrics on a separate listener (METRICS_PORT)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ env: { METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' } });
  });
  afterAll(async () => t?.close());

  it('answers GET /metrics without authentication, only on METRICS_HOST, and nothing else', async () => {
    const { port } = t.app.get(MetricsListener).address()!;
    expect((await t.http.get('/api/v1/alive')).status).toBe(200);
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parse(await response.text()).get(requests('GET', '/api/v1/alive', 200))).toBe(1);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/identity/my`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
    // Another loopback address of this host: the listener is bound to 127.0.0.1 alone.
    await expect(fetch(`http://127.0.0.2:${port}/metrics`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    // The API port keeps its authentication.
    expect((await t.http.get('/metrics')).status).toBe(401);
  });

  it('refuses to start with METRICS_HOST on a wildcard or public address, saying why', async () => {
    for (const [host, why] of [
      ['0.0.0.0', 'wildcard'],
      ['203.0.113.7', 'public address'],
    ]) {
      const { code, stderr } = await runToExit({ METRICS_PORT: '9464', METRICS_HOST: host, LOG_LEVEL: 'silent' });
      expect(code).toBe(1);
      expect(stderr).toContain(`Configuration error: METRICS_HOST: ${host} is a ${why}`);
    }
  });
});
