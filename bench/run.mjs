// npm run bench: every hot path beside its floor, measured side by side in one run (issue 10).
//
// Starts everything it measures on fresh PostgreSQL databases (127.0.0.1:5432, or TEST_DATABASE_URL): the built
// server (node dist/main.js) in its default configuration (access log at info, metrics on) with only what the
// bench must set (signing key, admin password, database), the floors (bare node:http, node:http + pg running
// the same SQL by hand, a bare argon2id verify) and the embedded default (PGlite). Load comes from autocannon in
// a process of its own; targets run in interleaved rounds and each figure is the median over rounds. Every load
// checks its answers (a 401 is not a fast request) and the uncached load checks the server's cache counters.
// Prints one table and writes bench/results/latest.json.
//
//   BENCH_ROUNDS (2)  BENCH_SECONDS (3)  BENCH_CONNECTIONS (10)  BENCH_WARMUP_SECONDS (0.5)
//   BENCH_UNCACHED_TOKENS (100000)  BENCH_REVOCATION_TRIALS (20)  BENCH_OUTPUT (bench/results/latest.json)
//   --smoke (or BENCH_SMOKE=1): 1 round of 0.4 s, no warm-up, 2,000 uncached tokens, written to a temporary file unless
//     BENCH_OUTPUT says where; checks that everything runs, not how fast.
//   --scale: only identity/my cached and uncached with 1,000 then 1,000,000 tokens in the table, and the
//     app's memory after each (bench/results/scale.json).
// Absolute req/s depend on the machine (2 shared cores here): read ratios, and CPU µs per request.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkLoad, describeTarget, figures, formatTable, median, medianOfRounds, meets } from './lib/report.mjs';
import {
  ADMIN_PASSWORD,
  ROOT,
  SIGNING_KEY,
  TICKS_PER_SECOND,
  cleanup,
  cpuTicks,
  createDatabase,
  rssBytes,
  startFloor,
  startLoadRunner,
  startServer,
  tempDir,
} from './lib/processes.mjs';
import { SIGNINS_PER_ADDRESS } from '../dist/auth/auth.service.js';
import { api, cacheCounters, insertTokens, invalidateAll, roleIds, seed, writeTokenFile } from './lib/setup.mjs';

/**
 * The targets of issue 10. `of` / `reference`: ratio of req/s of two rows; `figure`: an absolute figure.
 * Embedded req/s targets are absolute: 3 × the 166 (identity/my) and 131 (token list), measured on
 * the machine, so they only mean something there.
 */
const TARGETS = [
  { of: 'alive', reference: 'bare', op: '>=', limit: 0.5 },
  { of: 'verify-1000', reference: 'alive', op: '>=', limit: 0.75 },
  { of: 'verify-10', reference: 'verify-1000', op: 'within', limit: 0.1 },
  { of: 'my', reference: 'alive', op: '>=', limit: 0.6 },
  { of: 'uncached', reference: 'alive', op: '>=', limit: 0.25 },
  { of: 'token-list', reference: 'pg-token-list', op: '>=', limit: 0.5 },
  { of: 'identity-list', reference: 'pg-identity-list', op: '>=', limit: 0.5 },
  { of: 'grant', reference: 'pg-insert', op: '>=', limit: 0.5 },
  { of: 'signin', reference: 'argon2', op: '>=', limit: 0.8 },
  { of: 'embedded-my', figure: 'rps', op: '>=', limit: 498, unit: 'req/s' },
  { of: 'embedded-token-list', figure: 'rps', op: '>=', limit: 393, unit: 'req/s' },
  { of: 'embedded-rss', figure: 'MB', op: '<', limit: 250, unit: 'MB' },
  { of: 'embedded-startup', figure: 'ms', op: '<', limit: 3000, unit: 'ms' },
  { of: 'revocation-median', figure: 'ms', op: '<', limit: 50, unit: 'ms' },
  { of: 'revocation-max', figure: 'ms', op: '<', limit: 1000, unit: 'ms' },
  // A use on the other instance right after the revoke's 2xx must be refused: accepted uses must be none.
  { of: 'revocation-late', figure: 'uses', op: '<', limit: 1, unit: 'accepted' },
  // --scale
  { of: 'scale-my', op: 'within', limit: 0.1 },
  { of: 'scale-uncached', op: 'within', limit: 0.25 },
  { of: 'scale-rss', figure: 'MB', op: '<', limit: 300, unit: 'MB' },
];

const args = new Set(process.argv.slice(2));
const SMOKE = args.has('--smoke') || process.env.BENCH_SMOKE === '1';
const SCALE = args.has('--scale');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (SMOKE ? 1 : 2));
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SMOKE ? 0.4 : 3));
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? (SMOKE ? 0 : 0.5));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const UNCACHED_TOKENS = Number(process.env.BENCH_UNCACHED_TOKENS ?? (SMOKE ? 2000 : 100000));
const REVOCATION_TRIALS = Number(process.env.BENCH_REVOCATION_TRIALS ?? (SMOKE ? 5 : 20));
const RULES = 1000;
const LIST_IDENTITIES = 38; // + admin + bench-bot: 40 identities and 41 tokens (the list)
const PAGE = '?page=1&pageSize=20';
const OUTPUT =
  process.env.BENCH_OUTPUT ??
  (SMOKE ? path.join(os.tmpdir(), `apptoken-bench-smoke-${process.pid}.json`) : path.join(ROOT, 'bench', 'results', SCALE ? 'scale.json' : 'latest.json'));

const began = performance.now();
const log = (line) => process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

let runner;

/** One load of a target; its answers checked, the server's CPU time read around it. */
async function load(target, seconds) {
  await target.before?.();
  const before = cpuTicks(target.pid);
  const result = await runner.run({ connections: CONNECTIONS, seconds, ...target.job() });
  const after = cpuTicks(target.pid);
  const ok = checkLoad(target.route, result, target.expect);
  await target.after?.(result, ok);
  return figures({ ok, seconds: result.seconds, p50: result.latency.p50, p99: result.latency.p99, cpuTicks: after - before, ticksPerSecond: TICKS_PER_SECOND });
}

/** A warm-up pass, then ROUNDS interleaved rounds (every target once per round); the medians per target. */
async function measureInterleaved(targets) {
  if (WARMUP_SECONDS > 0) for (const target of targets) await load(target, WARMUP_SECONDS);
  const rounds = new Map(targets.map((target) => [target.id, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const target of targets) {
      const figure = await load(target, SECONDS);
      rounds.get(target.id).push(figure);
      log(`round ${round}/${ROUNDS} ${target.route}: ${figure.rps.toFixed(0)} req/s, ${figure.cpuUsPerRequest.toFixed(0)} µs CPU/req`);
    }
  }
  return new Map(targets.map((target) => [target.id, { route: target.route, ...medianOfRounds(rounds.get(target.id)), perRound: rounds.get(target.id) }]));
}

function targetRow(target, value, { ratioLabel } = {}) {
  return { target: describeTarget(target), met: meets(target.op, value, target.limit), ratio: value, ratioLabel };
}

const mb = (bytes) => bytes / (1024 * 1024);

function machine() {
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
  } catch {
    // not a git checkout
  }
  const cpus = os.cpus();
  return { cpus: cpus.length, cpuModel: cpus[0]?.model, memoryGB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, node: process.version, commit, dirty };
}

async function writeResults(report) {
  await mkdir(path.dirname(OUTPUT), { recursive: true });
  await writeFile(OUTPUT, `${JSON.stringify(report, null, 2)}\n`);
}

function uncachedTarget(id, route, server, adminToken, tokenFile, { amount, offsetAfterEach = true, beforeEach } = {}) {
  let offset = 0;
  let counters;
  return {
    id,
    route,
    pid: server.pid,
    before: async () => {
      await beforeEach?.();
      counters = await cacheCounters(server.url, adminToken);
    },
    job: () => ({ url: `${server.url}/api/v1/identity/my`, tokens: { file: tokenFile, offset }, ...(amount ? { amount } : {}) }),
    after: async (result, ok) => {
      if (offsetAfterEach) offset += result.tokensUsed;
      const now = await cacheCounters(server.url, adminToken);
      const misses = now.misses - counters.misses;
      const hits = now.hits - counters.hits - 2; // the two scrapes' own admin token
      if (misses < ok || hits > ok * 0.01) throw new Error(`${route}: ${ok} requests but ${misses} token cache misses and ${hits} hits: not uncached`);
    },
  };
}

async function main() {
  log(`${SMOKE ? 'smoke' : SCALE ? 'scale' : 'full'} run: ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections`);
  runner = await startLoadRunner();
  if (SCALE) return scale();

  // Databases: main (1,000 rules, 40 identities, 41 tokens: alive, identity/my, verify, lists, sign-ins),
  // rules10 (verify with 10 rules), uncached (the bulk tokens, grants and revocation: they add rows the
  // lists must not see).
  const [mainDb, rules10Db, uncachedDb] = await Promise.all([createDatabase('main'), createDatabase('rules10'), createDatabase('uncached')]);
  const embeddedDir = await tempDir('embedded');
  const tokenDir = await tempDir('tokens');
  const serverEnv = (db) => ({ DATABASE_URL: db.url, JWT_SIGNING_KEY: SIGNING_KEY });

  log('starting servers');
  const [mainServer, rules10Server, uncachedServer, embeddedFirst] = await Promise.all([
    startServer('main', serverEnv(mainDb)),
    startServer('rules10', serverEnv(rules10Db)),
    startServer('uncached', serverEnv(uncachedDb)),
    startServer('embedded', { DATA_DIR: embeddedDir }),
  ]);
  log(`seeding (${RULES} rules, ${LIST_IDENTITIES + 2} identities)`);
  const [main, rules10, uncached, embeddedSeed] = await Promise.all([
    seed(mainServer.url, { rules: RULES, identities: LIST_IDENTITIES, databaseUrl: mainDb.url }),
    seed(rules10Server.url, { rules: 10, databaseUrl: rules10Db.url }),
    seed(uncachedServer.url),
    seed(embeddedFirst.url, { identities: LIST_IDENTITIES }),
  ]);

  // The embedded default's start-up on existing data, and its memory after start.
  await embeddedFirst.stop();
  const embeddedServer = await startServer('embedded', { DATA_DIR: embeddedDir });
  const embeddedRss = rssBytes(embeddedServer.pid);
  const embeddedStartedIn = Number(/Started in (\d+) ms/.exec(embeddedServer.output())?.[1]);
  log(`embedded restarted in ${embeddedServer.startupMs.toFixed(0)} ms (it says ${embeddedStartedIn} ms), VmRSS ${mb(embeddedRss).toFixed(0)} MB`);

  log(`minting and inserting ${UNCACHED_TOKENS.toLocaleString('en-US')} tokens`);
  const sampleCount = 3;
  const uncachedTokens = await insertTokens(uncachedDb.url, UNCACHED_TOKENS + sampleCount);
  for (const token of uncachedTokens.slice(0, sampleCount)) {
    const me = (await api(uncachedServer.url, 'GET', '/api/v1/identity/my', { token })).body;
    if (me.name !== 'bench-bot' || me.authenticatedBy !== 'token') throw new Error(`a bulk token authenticated as ${JSON.stringify(me)}`);
  }
  const tokenFile = path.join(tokenDir, 'uncached.txt');
  await writeTokenFile(tokenFile, uncachedTokens.slice(sampleCount));

  // Floors.
  const { rows: adminRows } = await (async () => {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: mainDb.url });
    await client.connect();
    try {
      return await client.query("SELECT password_hash FROM identity WHERE name = 'admin'");
    } finally {
      await client.end();
    }
  })();
  const grantRoleIds = await (async () => {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: uncachedDb.url });
    await client.connect();
    try {
      return await roleIds(client, ['Svc']);
    } finally {
      await client.end();
    }
  })();
  const [bare, pgFloor, argon2Floor] = await Promise.all([
    startFloor('bare'),
    startFloor('pg', {
      LIST_DATABASE_URL: mainDb.url,
      GRANT_DATABASE_URL: uncachedDb.url,
      GRANT_IDENTITY_ID: String(uncached.bot.id),
      GRANT_ROLE_IDS: grantRoleIds.join(','),
      GRANT_ROLE_NAMES: 'Svc',
    }),
    startFloor('argon2', { ARGON2_HASH: adminRows[0].password_hash }),
  ]);

  // The floors answer what the app answers: same ids in the same order, same fields, same total.
  for (const [route, floorRoute] of [
    [`/api/v1/apptoken${PAGE}`, `/apptoken${PAGE}`],
    [`/api/v1/identity${PAGE}`, `/identity${PAGE}`],
  ]) {
    const app = await api(mainServer.url, 'GET', route, { token: main.adminToken });
    const floor = await api(pgFloor.url, 'GET', floorRoute);
    const shape = (response) => JSON.stringify({ total: response.headers.get('x-total-count'), ids: response.body.map((row) => row.id), keys: Object.keys(response.body[0]).sort(), nested: response.body[0].identity ? Object.keys(response.body[0].identity).sort() : null });
    if (shape(app) !== shape(floor)) throw new Error(`${floorRoute} floor does not answer as ${route}:\n app   ${shape(app)}\n floor ${shape(floor)}`);
    if (app.body.length !== 20) throw new Error(`${route}: ${app.body.length} rows, expected a full page of 20`);
  }

  const bearer = (token) => ({ authorization: `Bearer ${token}` });
  const verifyHeaders = (token, rule) => ({ ...bearer(token), 'x-original-uri': `/svc-${rule}/42/payslips/2026?format=pdf`, 'x-original-method': 'GET' });
  for (const [server, token, rule] of [
    [mainServer, main.botToken, 777],
    [rules10Server, rules10.botToken, 7],
  ]) {
    // The rules added by SQL arrive with the NOTIFY: wait for them.
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${server.url}/api/v1/apptoken/verify`, { headers: verifyHeaders(token, rule) });
      await response.arrayBuffer();
      if (response.status === 200) break;
      if (attempt === 50) throw new Error(`verify on ${server.label} answered ${response.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { headers } = await api(server.url, 'GET', '/api/v1/endpoint?pageSize=1', { token: server === mainServer ? main.adminToken : rules10.adminToken });
    const expected = server === mainServer ? RULES : 10;
    if (headers.get('x-total-count') !== String(expected)) throw new Error(`${server.label}: ${headers.get('x-total-count')} rules, expected ${expected}`);
  }
  const signinBody = JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD });
  // Sign-ins: the app serves at most SIGNINS_PER_ADDRESS at once per client address (a 429 past it), and
  // all load comes from 127.0.0.1, so sign-ins and their argon2 floor are loaded with that many connections.
  // Failures never happen here, so SIGNIN_MAX_FAILURES_* (which count attempts in progress) are not reached.
  const signinConnections = Math.min(CONNECTIONS, SIGNINS_PER_ADDRESS);
  const json = { 'content-type': 'application/json' };

  const targets = [
    { id: 'bare', route: 'floor: bare node:http {"ok":true}', pid: bare.pid, job: () => ({ url: `${bare.url}/` }) },
    { id: 'alive', route: 'GET /api/v1/alive', pid: mainServer.pid, job: () => ({ url: `${mainServer.url}/api/v1/alive` }) },
    { id: 'my', route: 'GET /api/v1/identity/my (Bearer, cached)', pid: mainServer.pid, job: () => ({ url: `${mainServer.url}/api/v1/identity/my`, headers: bearer(main.botToken) }) },
    { id: 'verify-1000', route: `GET /api/v1/apptoken/verify (${RULES} rules)`, pid: mainServer.pid, job: () => ({ url: `${mainServer.url}/api/v1/apptoken/verify`, headers: verifyHeaders(main.botToken, 777) }) },
    { id: 'verify-10', route: 'GET /api/v1/apptoken/verify (10 rules)', pid: rules10Server.pid, job: () => ({ url: `${rules10Server.url}/api/v1/apptoken/verify`, headers: verifyHeaders(rules10.botToken, 7) }) },
    uncachedTarget('uncached', `GET /api/v1/identity/my (uncached, ${(UNCACHED_TOKENS / 1000).toLocaleString('en-US')}k tokens once each)`, uncachedServer, uncached.adminToken, tokenFile),
    { id: 'pg-token-list', route: 'floor: node:http + pg token page (20 of 41)', pid: pgFloor.pid, job: () => ({ url: `${pgFloor.url}/apptoken${PAGE}` }) },
    { id: 'token-list', route: 'GET /api/v1/apptoken (20 of 41)', pid: mainServer.pid, job: () => ({ url: `${mainServer.url}/api/v1/apptoken${PAGE}`, headers: bearer(main.adminToken) }) },
    { id: 'pg-identity-list', route: 'floor: node:http + pg identity page (20 of 40)', pid: pgFloor.pid, job: () => ({ url: `${pgFloor.url}/identity${PAGE}` }) },
    { id: 'identity-list', route: 'GET /api/v1/identity (20 of 40)', pid: mainServer.pid, job: () => ({ url: `${mainServer.url}/api/v1/identity${PAGE}`, headers: bearer(main.adminToken) }) },
    { id: 'pg-insert', route: 'floor: node:http + pg INSERT of a grant\'s rows', pid: pgFloor.pid, job: () => ({ url: `${pgFloor.url}/grant`, method: 'POST' }) },
    {
      id: 'grant',
      route: 'POST /api/v1/apptoken/grant (Bearer admin)',
      pid: uncachedServer.pid,
      job: () => ({ url: `${uncachedServer.url}/api/v1/apptoken/grant`, method: 'POST', headers: { ...json, ...bearer(uncached.adminToken) }, body: JSON.stringify({ identity: { id: uncached.bot.id } }) }),
    },
    { id: 'argon2', route: `floor: node:http + argon2id verify (${signinConnections} conn.)`, pid: argon2Floor.pid, job: () => ({ url: `${argon2Floor.url}/`, method: 'POST', headers: json, body: signinBody, connections: signinConnections }) },
    { id: 'signin', route: `POST /api/v1/signin (success, ${signinConnections} conn.)`, pid: mainServer.pid, job: () => ({ url: `${mainServer.url}/api/v1/signin`, method: 'POST', headers: json, body: signinBody, connections: signinConnections }) },
    { id: 'embedded-alive', route: 'embedded: GET /api/v1/alive', pid: embeddedServer.pid, job: () => ({ url: `${embeddedServer.url}/api/v1/alive` }) },
    { id: 'embedded-my', route: 'embedded: GET /api/v1/identity/my (cached)', pid: embeddedServer.pid, job: () => ({ url: `${embeddedServer.url}/api/v1/identity/my`, headers: bearer(embeddedSeed.botToken) }) },
    { id: 'embedded-token-list', route: 'embedded: GET /api/v1/apptoken (20 of 41)', pid: embeddedServer.pid, job: () => ({ url: `${embeddedServer.url}/api/v1/apptoken${PAGE}`, headers: bearer(embeddedSeed.adminToken) }) },
    { id: 'embedded-identity-list', route: 'embedded: GET /api/v1/identity (20 of 40)', pid: embeddedServer.pid, job: () => ({ url: `${embeddedServer.url}/api/v1/identity${PAGE}`, headers: bearer(embeddedSeed.adminToken) }) },
  ];
  log(`measuring ${targets.length} targets`);
  const results = await measureInterleaved(targets);

  log(`revocation seen by another instance (${REVOCATION_TRIALS} trials)`);
  const second = await startServer('uncached-2', serverEnv(uncachedDb));
  const revocation = [];
  let revocationLate = 0;
  for (let trial = 0; trial < REVOCATION_TRIALS; trial++) {
    const granted = (await api(uncachedServer.url, 'GET', `/api/v1/apptoken/grant/${uncached.bot.id}`, { token: uncached.adminToken })).body;
    await api(second.url, 'GET', '/api/v1/identity/my', { token: granted.token });
    await api(second.url, 'GET', '/api/v1/identity/my', { token: granted.token });
    // Timed from the moment the revoke is sent: the change waits for every instance to apply it before answering.
    const revoked = performance.now();
    await api(uncachedServer.url, 'POST', `/api/v1/apptoken/${granted.id}/revoke`, { token: uncached.adminToken });
    for (let poll = 0; ; poll++) {
      const response = await fetch(`${second.url}/api/v1/identity/my`, { headers: bearer(granted.token) });
      await response.arrayBuffer();
      if (response.status === 401) break;
      if (response.status !== 200) throw new Error(`revocation poll: ${response.status}`);
      if (poll === 0) revocationLate++;
      if (performance.now() - revoked > 5000) throw new Error('revocation not seen by the other instance within 5 s');
    }
    revocation.push(performance.now() - revoked);
  }
  const revocationMedian = median(revocation);
  const revocationMax = Math.max(...revocation);

  // The table.
  const byId = (id) => results.get(id);
  const targetOf = (id) => TARGETS.find((t) => t.of === id);
  const rows = [];
  for (const target of targets) {
    const result = byId(target.id);
    const goal = targetOf(target.id);
    const row = { route: result.route, rps: result.rps, p50: result.p50, p99: result.p99, cpuUsPerRequest: result.cpuUsPerRequest };
    if (goal?.reference) {
      const ratio = result.rps / byId(goal.reference).rps;
      Object.assign(row, targetRow(goal, ratio, { ratioLabel: `${ratio.toFixed(2)} × ${goal.reference}` }));
    } else if (goal?.figure === 'rps') {
      Object.assign(row, targetRow(goal, result.rps, { ratioLabel: 'absolute (issue\'s machine)' }));
    }
    rows.push(row);
  }
  const figureRow = (id, route, value, label) => ({ route, ...targetRow(targetOf(id), value, { ratioLabel: label }) });
  rows.push(figureRow('embedded-rss', 'embedded: resident memory after start', mb(embeddedRss), `${mb(embeddedRss).toFixed(0)} MB`));
  rows.push(figureRow('embedded-startup', 'embedded: start-up on existing data', embeddedServer.startupMs, `${embeddedServer.startupMs.toFixed(0)} ms`));
  rows.push(figureRow('revocation-median', `revoke sent → refused on another instance, median of ${REVOCATION_TRIALS}`, revocationMedian, `${revocationMedian.toFixed(1)} ms`));
  rows.push(figureRow('revocation-max', 'revoke sent → refused on another instance, max', revocationMax, `${revocationMax.toFixed(1)} ms`));
  rows.push(figureRow('revocation-late', 'another instance accepting the token right after the 2xx', revocationLate, `${revocationLate} of ${REVOCATION_TRIALS}`));

  const elapsed = (performance.now() - began) / 1000;
  const table = formatTable(rows);
  const report = {
    date: new Date().toISOString(),
    mode: SMOKE ? 'smoke' : 'default',
    machine: machine(),
    settings: { rounds: ROUNDS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, uncachedTokens: UNCACHED_TOKENS, rules: RULES, database: 'PostgreSQL', statistic: 'median over rounds' },
    targets: TARGETS.filter((t) => !t.of.startsWith('scale')).map((t) => ({ ...t, wording: describeTarget(t) })),
    results: Object.fromEntries(results),
    embedded: { rssMB: mb(embeddedRss), startupMs: embeddedServer.startupMs, startedInMs: embeddedStartedIn },
    revocation: { trials: REVOCATION_TRIALS, medianMs: revocationMedian, maxMs: revocationMax, acceptedAfterAnswer: revocationLate, allMs: revocation },
    rows,
    allMet: rows.every((row) => row.met !== false),
    elapsedSeconds: elapsed,
    table,
  };
  await writeResults(report);
  process.stdout.write(`\nAppToken Server benchmark (${report.mode}): ${ROUNDS} interleaved rounds × ${SECONDS} s, ${CONNECTIONS} connections, median per target; ${report.machine.cpus} CPUs, Node ${process.version}\n\n${table}\n\n`);
  process.stdout.write(`${rows.filter((r) => r.met === false).length} of ${rows.filter((r) => r.met !== undefined).length} targets missed. Elapsed ${elapsed.toFixed(0)} s. Written to ${path.relative(ROOT, OUTPUT) || OUTPUT}\n`);
}

/** --scale: identity/my cached and uncached with 1,000 then 1,000,000 tokens in the table, and the app's memory. */
async function scale() {
  const db = await createDatabase('scale');
  const tokenDir = await tempDir('scale');
  const server = await startServer('scale', { DATABASE_URL: db.url, JWT_SIGNING_KEY: SIGNING_KEY });
  const seeded = await seed(server.url);
  const levels = SMOKE ? [1000, 5000] : [1000, 1000000];
  const perRound = 1000;
  const results = [];
  let inTable = 1; // the bot's own token from seeding
  for (const level of levels) {
    log(`filling the table to ${level.toLocaleString('en-US')} tokens`);
    const fresh = level - inTable;
    const keep = level === levels[0] ? fresh : (ROUNDS + 2) * perRound + 1;
    const kept = await insertTokens(db.url, fresh, { keep: Math.min(keep, fresh), onProgress: (n) => n % 200000 === 0 && log(`  ${n.toLocaleString('en-US')}`) });
    inTable = level;
    const cachedToken = kept[0];
    await api(server.url, 'GET', '/api/v1/identity/my', { token: cachedToken });
    const file = path.join(tokenDir, `level-${level}.txt`);
    const pool = kept.slice(1);
    await writeTokenFile(file, pool);
    // With 1,000 tokens there are not enough for fresh ones every round: the caches are emptied before each
    // uncached load instead, through the app's own invalidation channel, and the same ones are presented again.
    const reuse = pool.length < (ROUNDS + 1) * perRound;
    const amount = Math.min(perRound, pool.length) - CONNECTIONS * 4 - 1;
    const targets = [
      { id: `my-${level}`, route: `GET /api/v1/identity/my cached, ${level.toLocaleString('en-US')} tokens`, pid: server.pid, job: () => ({ url: `${server.url}/api/v1/identity/my`, headers: { authorization: `Bearer ${cachedToken}` } }) },
      uncachedTarget(`uncached-${level}`, `GET /api/v1/identity/my uncached, ${level.toLocaleString('en-US')} tokens`, server, seeded.adminToken, file, {
        amount,
        offsetAfterEach: !reuse,
        beforeEach: reuse ? () => invalidateAll(db.url).then(() => new Promise((resolve) => setTimeout(resolve, 200))) : undefined,
      }),
    ];
    const measured = await measureInterleaved(targets);
    results.push({ level, cached: measured.get(`my-${level}`), uncached: measured.get(`uncached-${level}`), rssMB: mb(rssBytes(server.pid)) });
    log(`${level}: RSS ${results.at(-1).rssMB.toFixed(0)} MB`);
  }
  const [small, large] = results;
  const rows = [];
  for (const { level, cached, uncached, rssMB } of results) {
    rows.push({ route: cached.route, rps: cached.rps, p50: cached.p50, p99: cached.p99, cpuUsPerRequest: cached.cpuUsPerRequest, ...(level === large.level ? targetRow(TARGETS.find((t) => t.of === 'scale-my'), cached.rps / small.cached.rps, { ratioLabel: `${(cached.rps / small.cached.rps).toFixed(2)} × ${small.level.toLocaleString('en-US')}` }) : {}) });
    rows.push({ route: uncached.route, rps: uncached.rps, p50: uncached.p50, p99: uncached.p99, cpuUsPerRequest: uncached.cpuUsPerRequest, ...(level === large.level ? targetRow(TARGETS.find((t) => t.of === 'scale-uncached'), uncached.rps / small.uncached.rps, { ratioLabel: `${(uncached.rps / small.uncached.rps).toFixed(2)} × ${small.level.toLocaleString('en-US')}` }) : {}) });
    rows.push({ route: `app resident memory, ${level.toLocaleString('en-US')} tokens`, ...targetRow(TARGETS.find((t) => t.of === 'scale-rss'), rssMB, { ratioLabel: `${rssMB.toFixed(0)} MB` }) });
  }
  const elapsed = (performance.now() - began) / 1000;
  const table = formatTable(rows);
  await writeResults({ date: new Date().toISOString(), mode: SMOKE ? 'scale-smoke' : 'scale', machine: machine(), settings: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, uncachedPerRound: perRound }, levels: results, rows, allMet: rows.every((r) => r.met !== false), elapsedSeconds: elapsed, table });
  process.stdout.write(`\nAppToken Server benchmark (--scale): ${ROUNDS} rounds, cached loads of ${SECONDS} s, uncached loads of ${perRound} tokens\n\n${table}\n\nElapsed ${elapsed.toFixed(0)} s. Written to ${path.relative(ROOT, OUTPUT)}\n`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`\nbenchmark FAILED: ${error instanceof Error ? error.stack : error}\n`);
  process.exitCode = 1;
} finally {
  await runner?.stop().catch(() => undefined);
  await cleanup();
}
