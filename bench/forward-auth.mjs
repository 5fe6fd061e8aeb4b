// npm run bench:metrics: forward-auth throughput as ratios against baselines measured in the same run.
//
// Starts the built server (node dist/main.js) on a fresh PostgreSQL database (or embedded PGlite when no
// server answers), loads 1,000 endpoint rules, and drives with autocannon, one after the other:
//   bare     a bare node:http server answering 200 (the floor of what Node does here)
//   alive    GET /api/v1/alive (NestJS + fastify, no auth)
//   verify   GET /api/v1/apptoken/verify with a Bearer token and X-Original-URI matched against the rules
// Then what metrics cost the hot path: alive and verify on two servers sharing the database, one with metrics
// (the default) and one with METRICS_ENABLED=false, in back-to-back pairs whose order alternates, BENCH_AB_ROUNDS
// (default 6) pairs of BENCH_AB_SECONDS (default 3) each; the medians of the pairs' ratios of throughput and of
// server CPU time per request (from /proc) are printed. BENCH_AA=1 runs metrics on both: the noise floor. 1.00 is free; the budget is 0.95 (throughput) and 1.05 (CPU).
// This machine is shared and noisy: read the ratios, not the absolute numbers.
//
// BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 10) and BENCH_ROUNDS (default 2) tune a run.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const RULES = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const AB_ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 6);
const AB_SECONDS = Number(process.env.BENCH_AB_SECONDS ?? 3);
const ADMIN_PASSWORD = 'bench-admin-password';
const SIGNING_KEY = randomBytes(32).toString('base64url');
const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function database() {
  const admin = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'apptoken-bench-'));
    return { env: { DATA_DIR: dataDir }, label: 'embedded PGlite', drop: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const name = `apptoken_bench_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    label: 'PostgreSQL',
    drop: async () => {
      const client = new pg.Client({ connectionString: SERVER_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

function startServer(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', JWT_SIGNING_KEY: SIGNING_KEY, ADMIN_PASSWORD, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)[\s\S]*Started in/.exec(output);
      if (match) resolve({ child, url: match[1].replace('localhost', '127.0.0.1') });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

async function call(base, method, route, { body, cookie, token } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (cookie) headers.cookie = cookie;
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status >= 400) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
  return { response, body: (response.headers.get('content-type') ?? '').includes('json') ? await response.json() : undefined };
}

/** CPU time a process has used so far, in clock ticks (user + system), or NaN where /proc is missing. */
function cpuTicks(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

function load(title, url, headers = {}, seconds = SECONDS, pid = undefined) {
  const cpuBefore = pid === undefined ? NaN : cpuTicks(pid);
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, headers }, (error, result) => {
      if (error) return reject(error);
      const ok = result['2xx'];
      if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${title}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      const cpuPerRequest = (cpuTicks(pid) - cpuBefore) / ok;
      resolve({ title, rps: ok / seconds, p50: result.latency.p50, p99: result.latency.p99, cpuPerRequest });
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The baseline in a process of its own: in this one it would share the event loop with autocannon. */
function startBare() {
  const source = `require('node:http').createServer((q, s) => s.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'))
    .listen(0, '127.0.0.1', function () { process.stdout.write('port ' + this.address().port + '\\n'); });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk) => {
      const match = /port (\d+)/.exec(String(chunk));
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.on('exit', (code) => reject(new Error(`baseline exited with ${code}`)));
  });
}

const db = await database();
const bare = await startBare();
const server = await startServer(db.env);
let metered;
let plain;
try {
  const signin = await call(server.url, 'POST', '/api/v1/signin', { body: { username: 'admin', password: ADMIN_PASSWORD } });
  const cookie = signin.response.headers.get('set-cookie').split(';')[0];
  await call(server.url, 'POST', '/api/v1/role', { cookie, body: { name: 'Svc' } });
  const bot = (await call(server.url, 'POST', '/api/v1/identity', { cookie, body: { name: 'bench-bot', source: 'service', roles: ['Svc'] } })).body;
  for (let i = 0; i < RULES; i++) {
    await call(server.url, 'POST', '/api/v1/endpoint', { cookie, body: { url: `/svc-${i}/:id/*`, method: ['GET'], role: 'Svc' } });
  }
  const { token } = (await call(server.url, 'GET', `/api/v1/apptoken/grant/${bot.id}`, { cookie })).body;
  const verifyHeaders = { authorization: `Bearer ${token}`, 'x-original-uri': '/svc-777/42/payslips/2026?format=pdf', 'x-original-method': 'GET' };
  // The token must be accepted before load starts (and is then in the cache, as in steady state).
  await call(server.url, 'GET', '/api/v1/apptoken/verify', { token, body: undefined }).catch(() => undefined);
  const check = await fetch(`${server.url}/api/v1/apptoken/verify`, { headers: verifyHeaders });
  if (check.status !== 200) throw new Error(`verify answered ${check.status}`);
  // A grandchild (granted with a token granted with the bot's): its two ancestors are checked at each request.
  const child = (await call(server.url, 'GET', '/api/v1/apptoken/grant', { token })).body.token;
  const grandchildToken = (await call(server.url, 'GET', '/api/v1/apptoken/grant', { token: child })).body.token;
  const grandchildHeaders = { ...verifyHeaders, authorization: `Bearer ${grandchildToken}` };
  const grandchildCheck = await fetch(`${server.url}/api/v1/apptoken/verify`, { headers: grandchildHeaders });
  if (grandchildCheck.status !== 200) throw new Error(`verify (grandchild) answered ${grandchildCheck.status}`);

  // The on/off pair: two fresh servers started alike once the data exists (the one that loaded the rules has a
  // different heap, which measured up to 14 % more CPU per request with identical settings).
  // BENCH_AA=1: both with metrics, to see the noise floor of the comparison.
  metered = await startServer({ ...db.env, METRICS_ENABLED: 'true' });
  plain = await startServer({ ...db.env, METRICS_ENABLED: process.env.BENCH_AA === '1' ? 'true' : 'false' });
  for (const target of [metered, plain]) {
    if ((await fetch(`${target.url}/api/v1/apptoken/verify`, { headers: verifyHeaders })).status !== 200) throw new Error('verify refused');
  }

  const { port } = bare;
  await load('warm-up', `${server.url}/api/v1/apptoken/verify`, verifyHeaders);
  for (const target of [metered, plain]) {
    await load('warm-up', `${target.url}/api/v1/alive`, {}, 2);
    await load('warm-up', `${target.url}/api/v1/apptoken/verify`, verifyHeaders, 2);
  }
  // Interleaved rounds, best of each: a burst of noise from a neighbour then skews no single target.
  const targets = [
    ['bare node:http', `http://127.0.0.1:${port}/`, {}],
    ['GET /api/v1/alive', `${server.url}/api/v1/alive`, {}],
    [`GET /api/v1/apptoken/verify (${RULES} rules)`, `${server.url}/api/v1/apptoken/verify`, verifyHeaders],
    ['  the same with a grandchild token', `${server.url}/api/v1/apptoken/verify`, grandchildHeaders],
  ];
  const best = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [title, url, headers] of targets) {
      const result = await load(title, url, headers);
      if (!best.has(title) || best.get(title).rps < result.rps) best.set(title, result);
    }
  }
  const results = targets.map(([title]) => best.get(title));
  const [baseline, alive, verify, grandchild] = results;

  // Metrics on against off, in pairs run back to back (alternating which goes first): noise from neighbours
  // then falls on both halves of a pair, and the median of the pairs' ratios ignores the worst bursts.
  const pairs = [
    ['GET /api/v1/alive', '/api/v1/alive', {}],
    ['GET /api/v1/apptoken/verify', '/api/v1/apptoken/verify', verifyHeaders],
  ];
  const ratios = new Map(pairs.map(([title]) => [title, { rps: [], cpu: [] }]));
  for (let round = 0; round < AB_ROUNDS; round++) {
    for (const [title, route, headers] of pairs) {
      const measure = (target) => load(title, `${target.url}${route}`, headers, AB_SECONDS, target.child.pid);
      const [on, off] = round % 2 === 0 ? [await measure(metered), await measure(plain)] : [...[await measure(plain), await measure(metered)].reverse()];
      ratios.get(title).rps.push(on.rps / off.rps);
      ratios.get(title).cpu.push(on.cpuPerRequest / off.cpuPerRequest);
    }
  }
  const lines = [
    '',
    `forward-auth benchmark: ${db.label}, ${CONNECTIONS} connections, best of ${ROUNDS} rounds of ${SECONDS} s, ${os.cpus().length} CPUs, Node ${process.version}`,
    ...results.map((r) => `  ${r.title.padEnd(42)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${String(r.p50).padStart(3)} ms   p99 ${String(r.p99).padStart(3)} ms`),
    '',
    `  verify / alive  = ${(verify.rps / alive.rps).toFixed(2)}`,
    `  alive  / bare   = ${(alive.rps / baseline.rps).toFixed(2)}`,
    `  verify / bare   = ${(verify.rps / baseline.rps).toFixed(2)}`,
    `  grandchild / verify = ${(grandchild.rps / verify.rps).toFixed(2)}`,
    '',
    `metrics on / off: median of ${AB_ROUNDS} back-to-back pairs of ${AB_SECONDS} s (1.00: free; budget: throughput >= 0.95, CPU per request <= 1.05)`,
    ...pairs.map(([title]) => {
      const { rps, cpu } = ratios.get(title);
      const list = (values) => values.map((v) => v.toFixed(2)).join(' ');
      return `  ${title.padEnd(30)} throughput ${median(rps).toFixed(3)} (${list(rps)})   CPU/request ${median(cpu).toFixed(3)} (${list(cpu)})`;
    }),
    '',
  ];
  process.stdout.write(lines.join('\n'));
} finally {
  for (const running of [server, metered, plain]) {
    if (!running) continue;
    running.child.kill('SIGTERM');
    await new Promise((resolve) => running.child.once('exit', resolve));
  }
  bare.child.kill();
  await db.drop();
}
