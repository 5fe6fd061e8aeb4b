import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import os from 'node:os';
import path from 'node:path';
import { HttpClient } from './support/http.js';
import { killAll, listeningTcpPorts, runToExit, startServer } from './support/process.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect, createTestDatabase, databaseMode, type TestDatabase } from './support/database.js';

const STRONG_KEY = 'a-strong-signing-key-of-more-than-32-bytes';

describe('start-up configuration checks (node dist/main.js)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it.each([
    ['a signing key under 32 bytes', { JWT_SIGNING_KEY: 'psu-default-key' }, 'JWT_SIGNING_KEY'],
    ['a malformed DATABASE_URL', { DATABASE_URL: 'localhost:5432/db' }, 'DATABASE_URL'],
    ['a non-numeric lifetime', { APP_TOKEN_DEFAULT_LIFETIME_DAYS: 'one year' }, 'APP_TOKEN_DEFAULT_LIFETIME_DAYS'],
    ['DATABASE_URL without a signing key', { JWT_SIGNING_KEY: '' }, 'JWT_SIGNING_KEY'],
    ['a TRUST_PROXY entry that is not an address or range', { TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
  ])('refuses %s: exit code 1 and one line naming the variable', async (_what, env, variable) => {
    const { code, stdout, stderr } = await runToExit({ DATABASE_URL: db.url, JWT_SIGNING_KEY: STRONG_KEY, ...env });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Configuration error: ${variable}: `));
  });

  (databaseMode() === 'server' ? it : it.skip)('fails fast, in one line, on a database that does not exist (no retries)', async () => {
    const missing = new URL(db.url);
    missing.pathname = '/apptoken_no_such_database';
    const started = Date.now();
    const { code, stderr } = await runToExit({ DATABASE_URL: missing.toString(), JWT_SIGNING_KEY: STRONG_KEY, LOG_LEVEL: 'silent' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('AppToken Server failed to start: database "apptoken_no_such_database" does not exist');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('reads a .env file in the working directory, with the environment taking precedence', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'apptoken-dotenv-'));
    try {
      await writeFile(path.join(dir, '.env'), `DATABASE_URL=${db.url}\nJWT_SIGNING_KEY=short-key-from-dotenv\nSESSION_TIMEOUT_MINUTES=5\n`);
      const fromFile = await runToExit({}, 20000, dir);
      expect(fromFile.code).toBe(1);
      expect(fromFile.stderr).toMatch(/^Configuration error: JWT_SIGNING_KEY: is 21 bytes/);
      const overridden = await runToExit({ SESSION_TIMEOUT_MINUTES: 'soon', JWT_SIGNING_KEY: STRONG_KEY }, 20000, dir);
      expect(overridden.stderr).toMatch(/^Configuration error: SESSION_TIMEOUT_MINUTES: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts on a weak key with JWT_ALLOW_WEAK_SIGNING_KEY=true, with a loud warning', async () => {
    const server = await startServer({ DATABASE_URL: db.url, JWT_SIGNING_KEY: 'psu-default-key', JWT_ALLOW_WEAK_SIGNING_KEY: 'true', ADMIN_PASSWORD: 'a-long-admin-password' });
    try {
      expect(server.output()).toMatch(/"level":40.*JWT_SIGNING_KEY is under 32 bytes/);
      expect(server.output()).not.toContain('psu-default-key');
      expect((await new HttpClient(server.baseUrl).get('/api/v1/alive')).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe('npm run migration:run (the TypeORM CLI on the built data source)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('applies the committed migrations to an empty database, and then has nothing left to do', async () => {
    const run = () =>
      promisify(execFile)(process.execPath, ['node_modules/typeorm/cli.js', 'migration:run', '-d', 'dist/database/data-source.js'], {
        env: { ...process.env, DATABASE_URL: db.url },
      });
    const first = await run();
    expect(first.stdout).toMatch(/Migration Foundation\d+ has been executed successfully/);
    const client = await connect(db.url);
    try {
      const { rows } = await client.query(`SELECT name FROM role WHERE builtin ORDER BY id`);
      expect(rows.map((r) => r.name)).toEqual(['Administrator', 'Operator', 'Reader']);
    } finally {
      await client.end();
    }
    expect((await run()).stdout).toMatch(/No migrations are pending/);
  });
});

describe('the embedded default (no DATABASE_URL)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'apptoken-embedded-'));
  });
  afterAll(async () => {
    killAll();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the admin password once, keeps its key and data in DATA_DIR, and keeps them across a restart', async () => {
    const first = await startServer({ DATA_DIR: dataDir });
    let password: string;
    let key: string;
    try {
      const banner = first.output();
      expect(banner).toContain(`${first.baseUrl.replace('127.0.0.1', '127.0.0.1')}/swagger`);
      expect(banner).toMatch(/Administrator: admin/);
      password = /Password:\s+(\S+)/.exec(banner)![1];
      expect(password.length).toBeGreaterThanOrEqual(20);
      // The password is on the console once, never in a structured log line.
      expect(banner.split('\n').filter((line) => line.startsWith('{') && line.includes(password))).toEqual([]);

      const keyFile = path.join(dataDir, 'signing-key');
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      key = (await readFile(keyFile, 'utf8')).trim();
      expect(Buffer.from(key, 'base64url')).toHaveLength(32);

      const http = new HttpClient(first.baseUrl);
      const session = await http.signin('admin', password);
      expect((await http.post('/api/v1/role', { name: 'Survivor' }, { session })).status).toBe(201);
    } finally {
      expect(await first.stop()).toBe(0);
    }

    const second = await startServer({ DATA_DIR: dataDir });
    try {
      expect(second.output()).not.toMatch(/Password:/);
      expect(second.output()).not.toContain(password);
      const http = new HttpClient(second.baseUrl);
      const session = await http.signin('admin', password);
      expect((await http.get('/api/v1/role/Survivor', { session })).status).toBe(200);
      expect((await readFile(path.join(dataDir, 'signing-key'), 'utf8')).trim()).toBe(key);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('keeps what it answered before a crash (SIGKILL, no shutdown), and the restart uses the same data', async () => {
    const crashDir = await mkdtemp(path.join(os.tmpdir(), 'apptoken-embedded-crash-'));
    try {
      const first = await startServer({ DATA_DIR: crashDir, ADMIN_PASSWORD: 'crash-test-password' });
      const http = new HttpClient(first.baseUrl);
      const session = await http.signin('admin', 'crash-test-password');
      expect((await http.post('/api/v1/role', { name: 'CrashSurvivor' }, { session })).status).toBe(201);
      const exited = new Promise((resolve) => first.child.once('exit', resolve));
      first.child.kill('SIGKILL');
      await exited;

      const second = await startServer({ DATA_DIR: crashDir });
      try {
        const again = new HttpClient(second.baseUrl);
        const secondSession = await again.signin('admin', 'crash-test-password');
        expect((await again.get('/api/v1/role/CrashSurvivor', { session: secondSession })).status).toBe(200);
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      await rm(crashDir, { recursive: true, force: true });
    }
  });

  it('recovers a lost admin password with ADMIN_RESET_PASSWORD=true, keeping the data', async () => {
    const before = await startServer({ DATA_DIR: dataDir, ADMIN_RESET_PASSWORD: 'true', ADMIN_PASSWORD: 'first-known-password' });
    const http = new HttpClient(before.baseUrl);
    const oldSession = await http.signin('admin', 'first-known-password');
    await before.stop();

    const reset = await startServer({ DATA_DIR: dataDir, ADMIN_RESET_PASSWORD: 'true' });
    try {
      expect(reset.output()).toMatch(/password reset by ADMIN_RESET_PASSWORD/);
      const generated = /Password:\s+(\S+)/.exec(reset.output())![1];
      const client = new HttpClient(reset.baseUrl);
      expect((await client.post('/api/v1/signin', { username: 'admin', password: 'first-known-password' })).status).toBe(401);
      expect((await client.get('/api/v1/identity/my', { session: oldSession })).status).toBe(401);
      const session = await client.signin('admin', generated);
      expect((await client.get('/api/v1/role/Survivor', { session })).status).toBe(200);
      const audit = await client.get('/api/v1/audit?action=identity.password_reset', { session });
      expect(audit.body.length).toBe(2);
    } finally {
      await reset.stop();
    }
  });

  it('serves concurrent requests, transactions among them, without a database error', async () => {
    const server = await startServer({ DATA_DIR: dataDir, ADMIN_RESET_PASSWORD: 'true', ADMIN_PASSWORD: 'concurrency-password' });
    try {
      const http = new HttpClient(server.baseUrl);
      const session = await http.signin('admin', 'concurrency-password');
      const requests = Array.from({ length: 40 }, (_, i) =>
        i % 4 === 0
          ? http.get('/api/v1/apptoken/grant', { session })
          : i % 4 === 1
            ? http.post('/api/v1/role', { name: `Concurrent ${i}` }, { session })
            : i % 4 === 2
              ? http.get('/api/v1/identity?pageSize=10', { session })
              : http.get('/api/v1/apptoken', { session }),
      );
      const statuses = (await Promise.all(requests)).map((response) => response.status);
      expect(statuses.filter((status) => status >= 300)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  (existsSync('/proc/self/fd') ? it : it.skip)(
    'lets no other process connect to its database without the per-start secret, and makes DATA_DIR private, while the app works',
    async () => {
      // A DATA_DIR someone made readable by all: the database files, key and password inside must not be.
      await chmod(dataDir, 0o755);
      const server = await startServer({ DATA_DIR: dataDir, ADMIN_RESET_PASSWORD: 'true', ADMIN_PASSWORD: 'private-database-password' });
      try {
        expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
        const httpPort = Number(new URL(server.baseUrl).port);
        const databasePorts = listeningTcpPorts(server.child.pid!).filter((port) => port !== httpPort);
        expect(databasePorts.length).toBeGreaterThan(0);
        for (const port of databasePorts) {
          for (const url of [`postgres://postgres@127.0.0.1:${port}/postgres`, `postgres://postgres:postgres@127.0.0.1:${port}/postgres`]) {
            const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
            client.on('error', () => undefined);
            const outcome = await client.connect().then(
              async () => {
                await client.end();
                return 'connected';
              },
              (error: { code?: string }) => error.code,
            );
            expect(outcome).toBe('28P01');
          }
        }
        const http = new HttpClient(server.baseUrl);
        const session = await http.signin('admin', 'private-database-password');
        expect((await http.get('/api/v1/identity/my', { session })).status).toBe(200);
      } finally {
        expect(await server.stop()).toBe(0);
      }
    },
  );

  it('refuses a second process on the same DATA_DIR instead of corrupting it', async () => {
    const first = await startServer({ DATA_DIR: dataDir });
    try {
      const { code, stderr } = await runToExit({ DATA_DIR: dataDir, PORT: '0' });
      expect(code).toBe(1);
      expect(stderr).toMatch(/in use by process/);
    } finally {
      await first.stop();
    }
  });
});

describe('the initial admin password (embedded default)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'apptoken-initial-'));
  });
  afterAll(async () => {
    killAll();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('survives a first start that fails after creating the admin (port busy), and is removed by its first sign-in', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const busyPort = (busy.address() as AddressInfo).port;
    let failed;
    try {
      failed = await runToExit({ DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(busyPort) }, 60000);
    } finally {
      busy.close();
    }
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/EADDRINUSE/);
    const file = path.join(dataDir, 'initial-admin-password');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const kept = (await readFile(file, 'utf8')).trim();
    expect(kept.length).toBeGreaterThanOrEqual(20);
    expect(failed.stdout + failed.stderr).not.toContain(kept);

    const second = await startServer({ DATA_DIR: dataDir });
    try {
      const banner = second.output();
      expect(/Password:\s+(\S+)/.exec(banner)?.[1]).toBe(kept);
      expect(banner).toContain(file);
      expect(banner.split('\n').filter((line) => line.startsWith('{') && line.includes(kept))).toEqual([]);
      const http = new HttpClient(second.baseUrl);
      expect((await http.post('/api/v1/signin', { username: 'admin', password: 'not-the-password' })).status).toBe(401);
      expect(existsSync(file)).toBe(true);
      await http.signin('admin', kept);
      expect(existsSync(file)).toBe(false);
    } finally {
      expect(await second.stop()).toBe(0);
    }

    const third = await startServer({ DATA_DIR: dataDir });
    try {
      expect(third.output()).not.toMatch(/Password:/);
      expect(third.output()).not.toContain(kept);
    } finally {
      expect(await third.stop()).toBe(0);
    }
  });

  it('forgets a kept password that no longer works instead of showing it', async () => {
    const first = await startServer({ DATA_DIR: dataDir, ADMIN_RESET_PASSWORD: 'true' });
    const generated = /Password:\s+(\S+)/.exec(first.output())![1];
    expect(await first.stop()).toBe(0);
    const file = path.join(dataDir, 'initial-admin-password');
    expect((await readFile(file, 'utf8')).trim()).toBe(generated);
    // A configured password replaces the generated one: the file would show a password that fails.
    const reset = await startServer({ DATA_DIR: dataDir, ADMIN_RESET_PASSWORD: 'true', ADMIN_PASSWORD: 'configured-password' });
    try {
      expect(reset.output()).not.toContain(generated);
      expect(existsSync(file)).toBe(false);
    } finally {
      expect(await reset.stop()).toBe(0);
    }
  });
});
