import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_PASSWORD, TEST_SIGNING_KEY } from './support/app.js';
import { createTestDatabase, databaseMode, type TestDatabase } from './support/database.js';
import { HttpClient } from './support/http.js';
import { freePort, haveNginx, renderTemplate, startExampleUpstream, startNginx, type RunningNginx } from './support/nginx.js';
import { killAll, startServer, type RunningServer } from './support/process.js';

/**
 * docker-compose.yml's topology without Docker: two built app processes on one fresh PostgreSQL database, and
 * Debian's nginx on loopback configured from the compose stack's templates (deploy/nginx/templates), both
 * load-balancing the API and doing forward-auth for the example upstream.
 */
const runnable = databaseMode() === 'server' && haveNginx;
if (databaseMode() !== 'server') process.stdout.write('SKIPPED: the replica spec needs PostgreSQL (two processes cannot share the embedded database)\n');
if (!haveNginx) process.stdout.write('SKIPPED: the replica spec needs nginx on the PATH (.ci/run installs nginx-light)\n');

interface LogLine {
  uri: string;
  status: string;
  upstream: string;
  requestId: string;
}

(runnable ? describe : describe.skip)('two replicas behind nginx, as docker-compose.yml runs them', () => {
  let db: TestDatabase;
  let replicas: RunningServer[] = [];
  let upstream: ChildProcess;
  let nginx: RunningNginx;
  let dir: string;
  let balancer: HttpClient;
  let gateway: HttpClient;
  let direct: HttpClient[];
  let replicaPorts: string[];
  let session: string;
  let botId: string;

  /** nginx's access log (subrequests included): which replica served each request. */
  async function served(): Promise<LogLine[]> {
    const text = await readFile(path.join(dir, 'access.log'), 'utf8');
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as LogLine);
  }
  const portOf = (upstreamAddr: string) => upstreamAddr.split(':').pop()!;

  async function until(limitMs: number, probe: () => Promise<boolean>): Promise<number> {
    const start = Date.now();
    while (Date.now() - start < limitMs) {
      if (await probe()) return Date.now() - start;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`not within ${limitMs} ms`);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, JWT_SIGNING_KEY: TEST_SIGNING_KEY, ADMIN_PASSWORD, LOG_LEVEL: 'warn', TRUST_PROXY: '127.0.0.1' };
    // Started together on the empty database, as `docker compose up` starts the replicas.
    replicas = await Promise.all([startServer(env), startServer(env)]);
    direct = replicas.map((replica) => new HttpClient(replica.baseUrl));
    replicaPorts = replicas.map((replica) => new URL(replica.baseUrl).port);

    const example = await startExampleUpstream();
    upstream = example.child;
    dir = await mkdtemp(path.join(os.tmpdir(), 'apptoken-replicas-'));
    const [balancerPort, gatewayPort] = [await freePort(), await freePort()];
    // The compose stack's upstream group, with the two processes in place of the one name Docker's DNS resolves.
    const group = (await renderTemplate('apptoken-upstream.conf.template', {}))
      .replace(/^\s*resolver .*$/m, '')
      .replace(/server \$\{APPTOKEN_HOST\}:\$\{APPTOKEN_PORT\} resolve ([^;]*);/, (_whole, options: string) =>
        replicaPorts.map((port) => `server 127.0.0.1:${port} ${options};`).join('\n    '),
      );
    expect(group).toMatch(/upstream apptoken \{/);
    expect(group).not.toMatch(/\$\{/);
    nginx = await startNginx(
      dir,
      {
        'apptoken-upstream.conf': group,
        'apptoken-api.conf': await renderTemplate('apptoken-api.conf.template', { BALANCER_PORT: `127.0.0.1:${balancerPort}`, APPTOKEN_URL: 'http://apptoken' }),
        'apptoken-gateway.conf': await renderTemplate('apptoken-gateway.conf.template', {
          GATEWAY_PORT: `127.0.0.1:${gatewayPort}`,
          APPTOKEN_URL: 'http://apptoken',
          UPSTREAM_URL: `http://127.0.0.1:${example.port}`,
        }),
      },
      [balancerPort, gatewayPort],
      [
        `log_format replicas escape=json '{"uri":"$uri","status":"$status","upstream":"$upstream_addr","requestId":"$upstream_http_x_request_id"}';`,
        `access_log ${dir}/access.log replicas;`,
        'log_subrequest on;',
      ],
    );
    balancer = new HttpClient(`http://127.0.0.1:${balancerPort}`);
    gateway = new HttpClient(`http://127.0.0.1:${gatewayPort}`);
    session = await balancer.signin('admin', ADMIN_PASSWORD);
  });

  afterAll(async () => {
    nginx?.stop();
    upstream?.kill();
    await Promise.all(replicas.map((replica) => replica.stop()));
    killAll();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('balances the API and the console over both replicas; a session from one is good on the other', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await balancer.get('/api/v1/identity/my', { session });
      expect(response.status).toBe(200);
      expect(response.body.name).toBe('admin');
      ids.push(response.headers.get('x-request-id')!);
    }
    const page = await balancer.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    // Each answer's X-Request-Id, found in nginx's log, names the replica that gave it: both did.
    const log = await served();
    const byRequestId = new Map(log.map((line) => [line.requestId, portOf(line.upstream)]));
    const ports = new Set(ids.map((id) => byRequestId.get(id)));
    expect([...ports].sort()).toEqual([...replicaPorts].sort());
  });

  it('takes a token granted through one replica on both, through the balancer and through the forward-auth gateway', async () => {
    await direct[1].post('/api/v1/role', { name: 'Payroll' }, { session });
    botId = (await direct[1].post('/api/v1/identity', { name: 'payroll-bot', source: 'service', roles: ['Payroll'] }, { session })).body.id;
    await direct[1].post('/api/v1/endpoint', { url: '/payroll/*', method: ['GET'], role: 'Payroll' }, { session });
    const granted = (await direct[0].get(`/api/v1/apptoken/grant/${botId}`, { session })).body;
    expect(granted.token).toEqual(expect.any(String));

    const before = (await served()).length;
    // One after the other, not interleaved: the round robin is shared by both server blocks.
    for (let i = 0; i < 4; i++) {
      const me = await balancer.get('/api/v1/identity/my', { token: granted.token });
      expect(me.status).toBe(200);
      expect(me.body.name).toBe('payroll-bot');
    }
    for (let i = 0; i < 4; i++) {
      const echoed = await gateway.get(`/payroll/2026/${i}`, { token: granted.token });
      expect(echoed.status).toBe(200);
      expect(echoed.body.identity).toMatchObject({ name: 'payroll-bot', roles: ['Payroll'] });
    }
    const log = (await served()).slice(before);
    const apiPorts = new Set(log.filter((line) => line.uri === '/api/v1/identity/my').map((line) => portOf(line.upstream)));
    const verifyPorts = new Set(log.filter((line) => line.uri === '/_apptoken_verify').map((line) => portOf(line.upstream)));
    expect([...apiPorts].sort()).toEqual([...replicaPorts].sort());
    expect([...verifyPorts].sort()).toEqual([...replicaPorts].sort());
  });

  it('enforces a revoke made through one replica on both at once: directly, through the balancer and through the gateway', async () => {
    const granted = (await direct[1].get(`/api/v1/apptoken/grant/${botId}`, { session })).body;
    // Both replicas have the token in their caches.
    for (const replica of direct) expect((await replica.get('/api/v1/identity/my', { token: granted.token })).status).toBe(200);
    expect((await gateway.get('/payroll/x', { token: granted.token })).status).toBe(200);

    expect((await direct[0].post(`/api/v1/apptoken/${granted.id}/revoke`, undefined, { session })).status).toBe(200);
    // The revoking replica refuses from its answer on; the other once PostgreSQL's NOTIFY reaches it (milliseconds).
    expect((await direct[0].get('/api/v1/identity/my', { token: granted.token })).status).toBe(401);
    const took = await until(1000, async () => (await direct[1].get('/api/v1/identity/my', { token: granted.token })).status === 401);
    process.stdout.write(`revoke on replica 1 refused by replica 2 after ${took} ms\n`);
    const before = (await served()).length;
    for (let i = 0; i < 4; i++) expect((await balancer.get('/api/v1/identity/my', { token: granted.token })).status).toBe(401);
    for (let i = 0; i < 4; i++) expect((await gateway.get('/payroll/x', { token: granted.token })).status).toBe(401);
    const log = (await served()).slice(before);
    expect([...new Set(log.filter((line) => line.uri === '/_apptoken_verify').map((line) => portOf(line.upstream)))].sort()).toEqual([...replicaPorts].sort());
  });

  it('keeps serving through the balancer while one replica is gone', async () => {
    expect(await replicas[1].stop()).toBe(0);
    for (let i = 0; i < 4; i++) expect((await balancer.get('/api/v1/identity/my', { session })).status).toBe(200);
  });
});
