import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ADMIN_PASSWORD, TEST_SIGNING_KEY } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { HttpClient } from './support/http.js';
import { killAll, startServer, type RunningServer } from './support/process.js';

/** The built server (`node dist/main.js`) on this spec's database. */
const start = (db: TestDatabase, env: Record<string, string> = {}) =>
  startServer({ DATABASE_URL: db.url, JWT_SIGNING_KEY: TEST_SIGNING_KEY, ADMIN_PASSWORD, LOG_LEVEL: 'warn', ...env });

/** Resolves with the exit code and when it came. */
function exited(child: ChildProcess): Promise<{ code: number | null; at: number }> {
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, at: performance.now() })));
}

/** One request on its own connection; its status, or the error code of the connection. */
function get(baseUrl: string, path: string, token?: string): Promise<{ status?: number; error?: string; connection?: string }> {
  return new Promise((resolve) => {
    const request = http.get(`${baseUrl}${path}`, { agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, connection: response.headers.connection }));
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

/** Busy loops on every core but one's worth, so the server and the client are descheduled at awkward moments. */
function cpuLoad(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

async function grantToken(server: RunningServer): Promise<string> {
  const client = new HttpClient(server.baseUrl);
  const session = await client.signin('admin', ADMIN_PASSWORD);
  const grant = await client.get('/api/v1/apptoken/grant?role=Reader', { session });
  if (grant.status !== 200) throw new Error(`grant: ${grant.status}`);
  return grant.body.token as string;
}

describe('shutdown of the built server (SIGTERM, Ctrl-C)', () => {
  let db: TestDatabase;
  let load: ChildProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => {
    for (const child of load) child.kill('SIGKILL');
    load = [];
    killAll();
  });
  afterAll(async () => db?.drop());

  it.each(['SIGTERM', 'SIGINT'] as const)('an idle server exits 0 within 1 s of %s, even with a connection open that sent nothing', async (signal) => {
    const server = await start(db);
    // A browser's preconnect, or a balancer's spare connection: it used to hold the server until the client gave up.
    const silent = net.connect(new URL(server.baseUrl).port as unknown as number, '127.0.0.1');
    silent.on('error', () => undefined);
    await new Promise((resolve) => silent.once('connect', resolve));
    expect((await get(server.baseUrl, '/api/v1/ready')).status).toBe(200);
    const exit = exited(server.child);
    const sent = performance.now();
    server.child.kill(signal);
    const { code, at } = await exit;
    silent.destroy();
    const ms = Math.round(at - sent);
    process.stdout.write(`idle server: exit ${code} ${ms} ms after ${signal}\n`);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1500);
  });

  it('an idle server on the embedded database (PGlite) exits 0 within 1 s of SIGTERM', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'apptoken-shutdown-'));
    try {
      const server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
      expect((await get(server.baseUrl, '/api/v1/ready')).status).toBe(200);
      const exit = exited(server.child);
      const sent = performance.now();
      server.child.kill('SIGTERM');
      const { code, at } = await exit;
      const ms = Math.round(at - sent);
      process.stdout.write(`idle embedded server: exit ${code} ${ms} ms after SIGTERM\n`);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(1500);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a second signal skips what is left of the grace (Ctrl-C twice)', async () => {
    const server = await start(db, { SHUTDOWN_GRACE_SECONDS: '30' });
    const exit = exited(server.child);
    server.child.kill('SIGINT');
    let ready = await get(server.baseUrl, '/api/v1/ready');
    for (let i = 0; ready.status === 200 && i < 20; i++) ready = await get(server.baseUrl, '/api/v1/ready');
    expect(ready.status).toBe(503);
    const sent = performance.now();
    server.child.kill('SIGINT');
    const { code, at } = await exit;
    process.stdout.write(`grace 30 s, second SIGINT: exit ${code} ${Math.round(at - sent)} ms after it\n`);
    expect(code).toBe(0);
    expect(at - sent).toBeLessThan(1500);
  });

  it('under CPU load, 50 Bearer requests with SIGTERM 5 ms after them get 200 or a refused connection: no 503, no reset', async () => {
    const rounds = 4;
    const totals: Record<string, number> = {};
    for (let round = 1; round <= rounds; round++) {
      const server = await start(db);
      const token = await grantToken(server);
      // Warm: the token is cached and the routes compiled, as on a server that has been up a while.
      expect((await get(server.baseUrl, '/api/v1/identity/my', token)).status).toBe(200);
      load = cpuLoad(2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const exit = exited(server.child);
      const requests = Array.from({ length: 50 }, () => get(server.baseUrl, '/api/v1/identity/my', token));
      await new Promise((resolve) => setTimeout(resolve, 5));
      const sent = performance.now();
      server.child.kill('SIGTERM');
      const results = await Promise.all(requests);
      const { code, at } = await exit;
      for (const child of load) child.kill('SIGKILL');
      load = [];
      const outcomes: Record<string, number> = {};
      for (const result of results) {
        const key = result.status !== undefined ? String(result.status) : result.error!;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        totals[key] = (totals[key] ?? 0) + 1;
      }
      process.stdout.write(`round ${round}: ${JSON.stringify(outcomes)}; exit ${code} ${Math.round(at - sent)} ms after SIGTERM\n`);
      expect(code).toBe(0);
      expect(Object.keys(outcomes).filter((key) => key !== '200' && key !== 'ECONNREFUSED')).toEqual([]);
      expect(server.output()).not.toMatch(/"level":(50|60)/);
    }
    // The accepted requests were served, not merely refused.
    expect(totals['200'] ?? 0).toBeGreaterThan(0);
  }, 180_000);

  it('with SHUTDOWN_GRACE_SECONDS=1, readiness is 503 at once while other requests still get 200 (closing their connection), then it exits 0', async () => {
    const server = await start(db, { SHUTDOWN_GRACE_SECONDS: '1' });
    const token = await grantToken(server);
    expect((await get(server.baseUrl, '/api/v1/ready')).status).toBe(200);
    const exit = exited(server.child);
    const sent = performance.now();
    server.child.kill('SIGTERM');
    // Readiness answers 503 from the signal on; give the signal a moment to be delivered.
    let ready = await new HttpClient(server.baseUrl).get('/api/v1/ready');
    for (let i = 0; ready.status === 200 && i < 20; i++) ready = await new HttpClient(server.baseUrl).get('/api/v1/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', status: 'shutting_down', message: 'Shutting down: this instance takes no new work' });
    const during: Array<{ status?: number; connection?: string }> = [];
    while (performance.now() - sent < 800) {
      during.push(await get(server.baseUrl, '/api/v1/identity/my', token));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(during.length).toBeGreaterThan(3);
    for (const result of during) expect(result).toEqual({ status: 200, connection: 'close' });
    const { code, at } = await exit;
    const ms = Math.round(at - sent);
    process.stdout.write(`grace 1 s: ${during.length} requests served during it; exit ${code} ${ms} ms after SIGTERM\n`);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(2500);
    // After the grace, new connections are refused.
    expect((await get(server.baseUrl, '/api/v1/alive')).error).toBe('ECONNREFUSED');
  });
});
