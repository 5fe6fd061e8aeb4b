// What the benchmark starts and must clean up whatever happens: servers, floors, the load runner, scratch
// databases and temporary directories. Every child and resource is registered here; cleanup() (also on
// SIGINT/SIGTERM and on an uncaught failure) kills the children and drops what was created.
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { cpuTicksFromStat, rssBytesFromStatus } from './report.mjs';

export const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BENCH_DIR = path.dirname(path.dirname(new URL(import.meta.url).pathname));
export const ROOT = path.dirname(BENCH_DIR);

const children = new Set();
const databases = new Set();
const directories = new Set();
let cleaning;

export function cleanup() {
  cleaning ??= (async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    children.clear();
    for (const name of databases) await dropDatabase(name).catch((error) => process.stderr.write(`could not drop ${name}: ${error.message}\n`));
    for (const dir of directories) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on Linux). */
export const TICKS_PER_SECOND = Number(process.env.BENCH_CLK_TCK ?? 100);

export function cpuTicks(pid) {
  try {
    return cpuTicksFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

export function rssBytes(pid) {
  try {
    return rssBytesFromStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** A client of the PostgreSQL server itself (for CREATE/DROP DATABASE). */
async function adminClient() {
  const client = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  return client;
}

export function databaseUrl(name) {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A new empty database, dropped by cleanup(). */
export async function createDatabase(label) {
  const name = `apptoken_bench_${label}_${process.pid}`;
  const client = await adminClient().catch((error) => {
    throw new Error(`PostgreSQL does not answer at ${SERVER_URL.replace(/\/\/([^:@/]*):[^@]*@/, '//$1:***@')} (set TEST_DATABASE_URL): ${error.message}`);
  });
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  databases.add(name);
  return { name, url: databaseUrl(name) };
}

async function dropDatabase(name) {
  const client = await adminClient();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
  databases.delete(name);
}

export async function tempDir(label) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `apptoken-bench-${label}-`));
  directories.add(dir);
  return dir;
}

export const SIGNING_KEY = randomBytes(32).toString('base64url');
export const ADMIN_PASSWORD = 'bench-admin-password';

/** The environment of a server: this one's minus anything that picks a database, key, port or log setting. */
function serverEnvironment(env) {
  const base = { ...process.env };
  for (const name of Object.keys(base)) {
    if (/^(DATABASE_URL|DATA_DIR|JWT_|ADMIN_|PORT|HOST|LOG_|METRICS_|APP_TOKEN_|ENHANCED_|SIGNIN_|SESSION_|TRUST_PROXY|COOKIE_|SHUTDOWN_)/.test(name)) delete base[name];
  }
  return { ...base, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', ADMIN_PASSWORD, ...env };
}

/**
 * Starts the built server (node dist/main.js) in its default configuration plus `env`, and resolves once it
 * printed its banner. Its stdout (the access log at info) is read and thrown away, so logging is paid for but
 * not kept; the last lines are kept for an error message.
 */
export function startServer(label, env, { timeoutMs = 60000 } = {}) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, ['dist/main.js'], { cwd: ROOT, env: serverEnvironment(env), stdio: ['ignore', 'pipe', 'pipe'] }));
    let head = '';
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label}: no banner within ${timeoutMs} ms:\n${head}`));
    }, timeoutMs);
    const onData = (chunk) => {
      if (ready) return;
      head = (head + chunk).slice(-20000);
      const match = /listening on (http:\/\/\S+)[\s\S]*Started in/.exec(head);
      if (match) {
        ready = true;
        clearTimeout(timer);
        const url = match[1].replace('localhost', '127.0.0.1').replace(/\/$/, '');
        const server = {
          label,
          child,
          pid: child.pid,
          url,
          startupMs: performance.now() - started,
          stop: () => stopChild(child),
          output: () => head,
        };
        resolve(server);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${label} exited (${code ?? signal}) before its banner:\n${head}`));
    });
  });
}

export function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts a floor script (bench/floors/NAME.mjs) with `env`; it prints `port N` when it listens. */
export function startFloor(name, env = {}) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, [path.join(BENCH_DIR, 'floors', `${name}.mjs`)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      const match = /^port (\d+)/m.exec(output);
      if (match) resolve({ label: name, child, pid: child.pid, url: `http://127.0.0.1:${match[1]}`, stop: () => stopChild(child) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`floor ${name} exited with ${code}:\n${output}`)));
  });
}

/** The load runner in its own process (autocannon), taking one job at a time. */
export function startLoadRunner() {
  return new Promise((resolve, reject) => {
    const child = track(fork(path.join(BENCH_DIR, 'lib', 'load-runner.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const pending = new Map();
    let next = 0;
    child.on('message', (message) => {
      if (message.ready) {
        resolve({
          pid: child.pid,
          run: (job) =>
            new Promise((done, fail) => {
              const id = ++next;
              pending.set(id, { done, fail });
              child.send({ ...job, id });
            }),
          stop: () => stopChild(child),
        });
        return;
      }
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiting?.fail(new Error(message.error));
      else waiting?.done(message.result);
    });
    child.once('exit', (code) => {
      for (const { fail } of pending.values()) fail(new Error(`load runner exited with ${code}`));
      reject(new Error(`load runner exited with ${code}`));
    });
  });
}
