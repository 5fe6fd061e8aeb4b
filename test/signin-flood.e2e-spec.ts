import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ADMIN_PASSWORD, TEST_SIGNING_KEY } from './support/app.js';
import { createTestDatabase, databaseMode, type TestDatabase } from './support/database.js';
import { HttpClient, sessionCookie } from './support/http.js';
import { killAll, startServer, type RunningServer } from './support/process.js';

const serverOnly = databaseMode() === 'server' ? describe : describe.skip;
if (databaseMode() !== 'server') {
  process.stdout.write('SKIPPED: the sign-in flood runs the built server against a PostgreSQL server\n');
}

const FLOOD = { seconds: 5, connections: 20, rate: 500, users: 5000, addresses: 4 };
const FLOOD_SCRIPT = path.resolve('test/support/signin-flood.mjs');

interface FloodResult {
  requests: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  latencyP99: number;
}

/** Runs the flood in its own process; resolves with its counts when it ends. */
function flood(url: string): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLOOD_SCRIPT, JSON.stringify({ url, ...FLOOD })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`flood exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as FloodResult);
    });
  });
}

const p99 = (values: number[]) => [...values].sort((x, y) => x - y)[Math.ceil(values.length * 0.99) - 1];

serverOnly('a bounded sign-in flood (wrong passwords, many user names)', () => {
  let db: TestDatabase;
  let server: RunningServer;
  let http: HttpClient;
  let token: string;
  /** Each client its own address, as behind a trusted proxy: the flood's addresses are not the bystander's. */
  const from = (address: string) => ({ 'x-forwarded-for': address });

  beforeAll(async () => {
    db = await createTestDatabase();
    // The server in its own process: the flood and the prober do not share its event loop, nor it theirs.
    server = await startServer({ DATABASE_URL: db.url, JWT_SIGNING_KEY: TEST_SIGNING_KEY, ADMIN_PASSWORD, TRUST_PROXY: 'loopback', LOG_LEVEL: 'error' });
    http = new HttpClient(server.baseUrl);
    const signin = await http.post('/api/v1/signin', { username: 'admin', password: ADMIN_PASSWORD }, { headers: from('192.0.2.1') });
    expect(signin.status).toBe(200);
    const session = sessionCookie(signin.headers)!;
    const created = await http.post('/api/v1/identity', { name: 'bystander', password: 'bystander-password', roles: ['Reader'] }, { session });
    expect(created.status).toBe(201);
    token = (await http.get('/api/v1/apptoken/grant', { session })).body.token;
  });
  afterAll(async () => {
    await server?.stop();
    killAll();
    await db?.drop();
  });

  /** One GET /api/v1/identity/my with the token: its latency in ms (and it must succeed). */
  const probe = async () => {
    const started = performance.now();
    const response = await fetch(`${server.baseUrl}/api/v1/identity/my`, { headers: { authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    const took = performance.now() - started;
    expect(response.status).toBe(200);
    return took;
  };

  it('keeps GET /api/v1/identity/my under 10 x its idle p99, and lets another user sign in meanwhile', async () => {
    for (let i = 0; i < 50; i++) await probe(); // warm-up
    const idle: number[] = [];
    for (let i = 0; i < 200; i++) idle.push(await probe());

    let flooding = true;
    const floodDone = flood(server.baseUrl).finally(() => (flooding = false));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during: number[] = [];
    const bystander = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const started = performance.now();
      const response = await http.post('/api/v1/signin', { username: 'bystander', password: 'bystander-password' }, { headers: from('192.0.2.50') });
      return { status: response.status, ms: performance.now() - started, stillFlooding: flooding };
    })();
    while (flooding) during.push(await probe());
    const result = await floodDone;
    const signin = await bystander;

    const idleP99 = p99(idle);
    const floodP99 = p99(during);
    const codes = result.statusCodes;
    const refused = (codes['401'] ?? 0) + (codes['429'] ?? 0);
    process.stdout.write(
      `sign-in flood: ${result.requests} requests in ${FLOOD.seconds} s over ${FLOOD.connections} connections (at most ${FLOOD.rate}/s), status counts ${JSON.stringify(codes)}, ` +
        `errors ${result.errors}, timeouts ${result.timeouts}, flood's own p99 ${result.latencyP99} ms\n` +
        `GET /api/v1/identity/my: idle p99 ${idleP99.toFixed(2)} ms (200 requests), during the flood p99 ${floodP99.toFixed(2)} ms, ` +
        `worst ${Math.max(...during).toFixed(2)} ms (${during.length} requests); bystander sign-in ${signin.status} in ${signin.ms.toFixed(1)} ms\n`,
    );
    // The flood happened, and was refused.
    expect(result.requests).toBeGreaterThan(500);
    expect(result.errors).toBe(0);
    expect(refused / result.requests).toBeGreaterThan(0.9);
    expect(codes['200'] ?? 0).toBe(0);
    expect(Object.keys(codes).filter((code) => Number(code) >= 500)).toEqual([]);
    // While it lasted, the token kept working fast and the bystander got in.
    expect(during.length).toBeGreaterThan(50);
    expect(signin.stillFlooding).toBe(true);
    expect(signin.status).toBe(200);
    expect(floodP99).toBeLessThan(10 * idleP99);
  });
});
