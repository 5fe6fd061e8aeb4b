import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { connect, createTestDatabase } from './support/database.js';
import { killAll, startServer } from './support/process.js';

const BIN = path.resolve('bin/apptoken.mjs');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI as a user would (`node bin/apptoken.mjs ...`), with its own HOME and config folder and
 * nothing of this process's database, key or APPTOKEN_* settings; `input` is piped on stdin (not a terminal).
 */
function cli(args: string[], options: { home: string; env?: Record<string, string>; input?: string }): Promise<CliResult> {
  if (!existsSync(path.resolve('dist/cli/main.js'))) throw new Error('dist/cli/main.js is missing: run "npm run build" first');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(APPTOKEN_|DATABASE_URL|JWT_|ADMIN_|DATA_DIR|PORT|HOST|XDG_CONFIG_HOME)/.test(name)) delete env[name];
  }
  Object.assign(env, { HOME: options.home, XDG_CONFIG_HOME: path.join(options.home, 'config'), NODE_ENV: 'production' }, options.env);
  return new Promise((resolve, reject) => {
    // The working directory holds no .env: local commands read only the environment given here.
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: options.home, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`apptoken ${args.join(' ')} did not exit within 60 s:\n${stdout}\n${stderr}`));
    }, 60000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

function parseJson<T = any>(result: CliResult): T {
  expect(result).toMatchObject({ code: 0 });
  return JSON.parse(result.stdout) as T;
}

describe('the apptoken CLI against a running server', () => {
  let t: TestApp;
  let sql: pg.Client;
  let home: string;
  /** The CLI as the signed-in admin (after the login test), on this server. */
  const run = (args: string[], options: { env?: Record<string, string>; input?: string } = {}) =>
    cli(args, { home, input: options.input, env: { APPTOKEN_URL: t.baseUrl, ...options.env } });
  const sessionFiles = () => {
    const folder = path.join(home, 'config', 'apptoken');
    return existsSync(folder) ? readdirSync(folder).map((name) => path.join(folder, name)) : [];
  };

  beforeAll(async () => {
    t = await startApp();
    sql = await connect(t.db.url);
    home = mkdtempSync(path.join(tmpdir(), 'apptoken-cli-'));
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  describe('usage', () => {
    it('gives --help on every command, exit 0', async () => {
      const commands = [
        [], ['login'], ['logout'], ['whoami'], ['token'], ['token', 'grant'], ['token', 'list'], ['token', 'revoke'], ['token', 'rotate'], ['token', 'delete'],
        ['identity', 'list'], ['identity', 'create'], ['identity', 'disable'], ['identity', 'delete'], ['identity', 'grant-role'], ['identity', 'revoke-role'],
        ['role', 'list'], ['role', 'create'], ['role', 'delete'], ['endpoint', 'list'], ['endpoint', 'create'], ['endpoint', 'delete'],
        ['check'], ['admin', 'reset-password'], ['migrate'],
      ];
      for (const command of commands) {
        const result = await run([...command, '--help']);
        expect({ command, code: result.code }).toEqual({ command, code: 0 });
        expect(result.stdout).toContain(`Usage: apptoken${command.length ? ` ${command.join(' ')}` : ''}`);
      }
    });

    it('gives help with `help COMMAND` (exit 0), and when a command is missing (exit 2)', async () => {
      expect(await run(['help', 'token'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: apptoken token') });
      expect(await run(['token'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: apptoken token') });
      expect(await run([])).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: apptoken') });
    });

    it('exits 2 on an unknown command or option, a bad value, or options that exclude each other', async () => {
      for (const args of [['bogus'], ['token', 'list', '--bogus'], ['token', 'list', '--expiring', 'soon'], ['token', 'revoke', 'abc'], ['token', 'grant', '--days', '3', '--never'], ['token', 'grant', '--expires', 'tomorrow'], ['check', '--path', 'no-slash'],
        // Out of the server's range, or not a real future date: refused here (exit 2), not by the server (exit 1).
        ['token', 'grant', '--days', '36501'], ['token', 'grant', '--expires', '2027-02-30'], ['token', 'grant', '--expires', '2020-01-01'],
        ['token', 'list', '--expiring', '0'], ['token', 'list', '--unused', '36501'], ['token', 'rotate', '1', '--grace', '604801']]) {
        const result = await run(args);
        expect({ args, code: result.code }).toEqual({ args, code: 2 });
        expect(result.stderr).toMatch(/^error: /);
        expect(result.stdout).toBe('');
      }
    });

    it('exits 1 with the API code when not signed in, and says how to sign in', async () => {
      const result = await run(['whoami']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: AUTHENTICATION_REQUIRED: not signed in to .*apptoken login/);
    });

    it('exits 1 and says so when the server cannot be reached', async () => {
      const result = await run(['whoami'], { env: { APPTOKEN_URL: 'http://127.0.0.1:1', APPTOKEN_TOKEN: 'x' } });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: UNREACHABLE: cannot reach http:\/\/127\.0\.0\.1:1/);
    });
  });

  describe('a server address that redirects', () => {
    it('is not followed (the credentials would go along): exit 1, naming where it points', async () => {
      const redirector = createServer((_request, response) => response.writeHead(301, { location: 'https://apptoken.example.test/api/v1/identity/my' }).end());
      await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
      try {
        const port = (redirector.address() as AddressInfo).port;
        const result = await run(['whoami'], { env: { APPTOKEN_URL: `http://127.0.0.1:${port}`, APPTOKEN_TOKEN: 'some-token' } });
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(`error: REDIRECTED: http://127.0.0.1:${port} redirects to https://apptoken.example.test: set APPTOKEN_URL (or --url) to the server's own address\n`);
      } finally {
        await new Promise((resolve) => redirector.close(resolve));
      }
    });
  });

  describe('login, whoami, logout', () => {
    it('refuses a wrong password with the API code and keeps no session', async () => {
      const result = await run(['login', '--username', 'admin'], { input: 'wrong-password\n' });
      expect(result.code).toBe(1);
      // The API's own message: not the "not signed in ... run apptoken login" hint meant for other commands.
      expect(result.stderr).toContain('error: INVALID_CREDENTIALS: Invalid user name or password\n');
      expect(result.stderr).not.toContain('apptoken login');
      expect(sessionFiles()).toEqual([]);
    });

    it('signs in with the password piped on stdin, keeps the cookie in a 0600 file in a 0700 folder, and never prints the password', async () => {
      const result = await run(['login', '--username', 'admin'], { input: `${ADMIN_PASSWORD}\n` });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('as admin (Administrator, Operator, Reader)');
      expect(result.stdout + result.stderr).not.toContain(ADMIN_PASSWORD);
      const [file] = sessionFiles();
      expect(sessionFiles()).toHaveLength(1);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      expect(readFileSync(file, 'utf8')).not.toContain(ADMIN_PASSWORD);
    });

    it('on a terminal, asks for the user name and the password, and does not echo the password', async () => {
      // util-linux `script` gives the CLI a pseudo-terminal; everything the terminal shows comes back on stdout.
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), APPTOKEN_URL: t.baseUrl };
      delete env.APPTOKEN_TOKEN;
      const child = spawn('script', ['-q', '-e', '-c', `'${process.execPath}' '${BIN}' login`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let screen = '';
      const shown = (text: string) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`never showed ${JSON.stringify(text)}:\n${screen}`)), 20000);
          const check = () => {
            if (!screen.includes(text)) return;
            clearTimeout(timer);
            child.stdout.off('data', check);
            resolve();
          };
          child.stdout.on('data', check);
          check();
        });
      child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await shown('User name: ');
      child.stdin.write('admin\r');
      await shown('Password for admin: ');
      child.stdin.write(`${ADMIN_PASSWORD}\r`);
      await shown('Signed in to');
      child.stdin.end();
      expect(await exited).toBe(0);
      expect(screen).toContain('User name: admin');
      expect(screen).not.toContain(ADMIN_PASSWORD);
      expect(sessionFiles()).toHaveLength(1);
    });

    it('whoami shows the session, as a table and as JSON', async () => {
      const table = await run(['whoami']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/Name:\s+admin/);
      expect(table.stdout).toMatch(/Signed in by:\s+session/);
      expect(parseJson(await run(['whoami', '--json']))).toMatchObject({ name: 'admin', authenticatedBy: 'session', roles: ['Administrator', 'Operator', 'Reader'] });
    });

    it('keeps sessions per server: another URL has none', async () => {
      const other = await cli(['whoami'], { home, env: { APPTOKEN_URL: t.baseUrl.replace('127.0.0.1', 'localhost') } });
      expect(other.code).toBe(1);
      expect(other.stderr).toContain('AUTHENTICATION_REQUIRED');
    });
  });

  describe('tokens', () => {
    let svcId: number;

    it('grant --quiet prints the token alone, and it works as a Bearer token and as APPTOKEN_TOKEN', async () => {
      const result = await run(['token', 'grant', '--quiet', '--role', 'Reader', '--days', '7', '--description', 'cli quiet']);
      expect(result.code).toBe(0);
      const token = result.stdout.trim();
      expect(result.stdout).toBe(`${token}\n`);
      expect(token.split('.')).toHaveLength(3);
      const me = await t.http.get('/api/v1/identity/my', { token });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ name: 'admin', authenticatedBy: 'token', roles: ['Reader'] });
      expect(parseJson(await run(['whoami', '--json'], { env: { APPTOKEN_TOKEN: token } }))).toMatchObject({ name: 'admin', authenticatedBy: 'token', roles: ['Reader'] });
      // Listing never shows a token value (enhanced security): only grant and rotate do.
      const list = await run(['token', 'list']);
      expect(list.stdout).not.toContain(token);
    });

    it('grant --json gives the whole token record; --never and --expires reach the API', async () => {
      const never = parseJson(await run(['token', 'grant', '--json', '--never', '--description', 'forever']));
      expect(never).toMatchObject({ expiration: null, description: 'forever', roles: ['Administrator', 'Operator', 'Reader'] });
      expect(typeof never.token).toBe('string');
      const dated = parseJson(await run(['token', 'grant', '--json', '--expires', '2031-06-30T00:00:00Z']));
      expect(dated.expiration).toBe('2031-06-30T00:00:00.000Z');
    });

    it('lists with --identity, --expiring, --unused, --revoked and --no-revoked, through every page', async () => {
      svcId = parseJson(await run(['identity', 'create', 'svc-cli', '--service', '--role', 'Reader', '--json'])).id;
      const grant = async (...args: string[]) => parseJson(await run(['token', 'grant', '--json', '--identity', 'svc-cli', ...args]));
      const soon = await grant('--days', '30', '--description', 'soon: a description long enough to go past the edge of an 80-column terminal');
      const stale = await grant('--days', '300', '--description', 'stale');
      const gone = await grant('--days', '300', '--description', 'gone');
      // Dates set in the database: expiring in 5 days, last used 40 days ago.
      await sql.query(`UPDATE app_token SET expires_at = now() + interval '5 days', jwt_expires_at = now() + interval '5 days' WHERE id = $1`, [soon.id]);
      await sql.query(`UPDATE app_token SET last_used_at = now() - interval '40 days', created_at = now() - interval '60 days' WHERE id = $1`, [stale.id]);
      expect((await run(['token', 'revoke', String(gone.id)])).code).toBe(0);
      const ids = async (...args: string[]) => parseJson<Array<{ id: number }>>(await run(['token', 'list', '--json', ...args])).map((token) => token.id);
      // Newest first: stale's creation was moved 60 days back.
      expect(await ids('--identity', 'svc-cli')).toEqual([gone.id, soon.id, stale.id]);
      expect(await ids('--identity', 'svc-cli', '--expiring', '14')).toEqual([soon.id]);
      expect(await ids('--identity', 'svc-cli', '--unused', '30')).toEqual([stale.id]);
      expect(await ids('--identity', 'svc-cli', '--revoked')).toEqual([gone.id]);
      expect(await ids('--identity', 'svc-cli', '--no-revoked')).toEqual([soon.id, stale.id]);
      // More than one page (the CLI asks for 500 at a time and follows X-Total-Count).
      await sql.query(
        `INSERT INTO app_token (hash, token_sha256, identity_id, created_at, expires_at, description, origin)
         SELECT gen_random_uuid(), sha256(convert_to(n::text, 'UTF8')), $1, now(), now() + interval '1 year', 'bulk', 'granted' FROM generate_series(1, 520) AS n`,
        [svcId],
      );
      expect(await ids('--identity', 'svc-cli')).toHaveLength(523);
      const table = await run(['token', 'list', '--identity', 'svc-cli', '--expiring', '14']);
      expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+IDENTITY\s+ROLES\s+EXPIRES\s+LAST USED\s+DESCRIPTION$/);
      expect(table.stdout).toMatch(new RegExp(`^${soon.id}\\s+svc-cli\\s+Reader\\s+\\d{4}-\\d{2}-\\d{2}\\s+never\\s+soon: a description.*…$`, 'm'));
      for (const line of table.stdout.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(80);
      expect((await run(['token', 'list', '--identity', 'svc-cli', '--revoked'])).stdout).toMatch(new RegExp(`^${gone.id}\\s+svc-cli\\s+Reader\\s+revoked\\s`, 'm'));
    });

    it('revoke: the token is refused from then on; revoking an unknown id exits 1 with NOT_FOUND', async () => {
      const token = (await run(['token', 'grant', '-q', '--days', '1'])).stdout.trim();
      const id = (await t.http.get('/api/v1/identity/my', { token })).body.tokenId as number;
      const result = await run(['token', 'revoke', String(id)]);
      expect(result).toMatchObject({ code: 0, stdout: `Revoked token ${id} (admin).\n` });
      expect((await t.http.get('/api/v1/identity/my', { token })).status).toBe(401);
      const unknown = await run(['token', 'revoke', '999999']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^error: NOT_FOUND: /);
    });

    it('rotate: a new working token, the old one refused (or kept for --grace seconds)', async () => {
      const old = parseJson(await run(['token', 'grant', '--json', '--days', '10', '--description', 'to rotate']));
      const rotated = parseJson(await run(['token', 'rotate', String(old.id), '--json']));
      expect(rotated.id).not.toBe(old.id);
      expect(rotated).toMatchObject({ description: 'to rotate' });
      expect((await t.http.get('/api/v1/identity/my', { token: old.token })).status).toBe(401);
      expect((await t.http.get('/api/v1/identity/my', { token: rotated.token })).status).toBe(200);
      const graced = (await run(['token', 'rotate', String(rotated.id), '--grace', '300', '--quiet'])).stdout.trim();
      expect((await t.http.get('/api/v1/identity/my', { token: rotated.token })).status).toBe(200);
      expect((await t.http.get('/api/v1/identity/my', { token: graced })).status).toBe(200);
    });

    it('delete: gone from the list; deleting again exits 1 with NOT_FOUND', async () => {
      const token = parseJson(await run(['token', 'grant', '--json', '--days', '1']));
      expect(await run(['token', 'delete', String(token.id)])).toMatchObject({ code: 0, stdout: `Deleted token ${token.id}.\n` });
      expect((await t.http.get('/api/v1/identity/my', { token: token.token })).status).toBe(401);
      const list = parseJson<Array<{ id: number }>>(await run(['token', 'list', '--json', '--identity', 'admin']));
      expect(list.map((entry) => entry.id)).not.toContain(token.id);
      const again = await run(['token', 'delete', String(token.id)]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^error: NOT_FOUND: /);
    });
  });

  describe('identities, roles, endpoint rules and check', () => {
    it('creates, changes and deletes identities and roles', async () => {
      expect(parseJson(await run(['role', 'create', 'Payroll', '--description', 'pay runs', '--json']))).toMatchObject({ name: 'Payroll', builtin: false });
      expect(parseJson<Array<{ name: string }>>(await run(['role', 'list', '--json'])).map((role) => role.name)).toEqual(['Administrator', 'Operator', 'Reader', 'Payroll']);
      const carol = parseJson(await run(['identity', 'create', 'carol', '--role', 'Operator', '--password-stdin', '--json'], { input: 'carol-password-1\n' }));
      expect(carol).toMatchObject({ name: 'carol', source: 'local', roles: ['Operator'], hasPassword: true });
      expect((await t.http.post('/api/v1/signin', { username: 'carol', password: 'carol-password-1' })).status).toBe(200);
      expect(parseJson(await run(['identity', 'grant-role', 'carol', 'payroll', 'Reader', '--json'])).roles).toEqual(['Operator', 'Reader', 'Payroll']);
      expect(parseJson(await run(['identity', 'revoke-role', 'carol', 'operator', '--json'])).roles).toEqual(['Reader', 'Payroll']);
      expect(parseJson(await run(['identity', 'disable', 'carol', '--json']))).toMatchObject({ disabled: true });
      expect((await t.http.post('/api/v1/signin', { username: 'carol', password: 'carol-password-1' })).status).toBe(401);
      const table = await run(['identity', 'list']);
      expect(table.stdout).toMatch(new RegExp(`^${carol.id}\\s+carol\\s+local\\s+disabled\\s+\\d{4}-\\d{2}-\\d{2}\\s+Reader,Payroll$`, 'm'));
      for (const line of table.stdout.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(80);
      const listed = parseJson<Array<{ name: string; disabled: boolean }>>(await run(['identity', 'list', '--json']));
      expect(listed.find((identity) => identity.name === 'carol')).toMatchObject({ disabled: true });
      expect(await run(['identity', 'delete', 'carol'])).toMatchObject({ code: 0, stdout: `Deleted identity ${carol.id} "carol".\n` });
      expect(parseJson<Array<{ name: string }>>(await run(['identity', 'list', '--json'])).map((identity) => identity.name)).not.toContain('carol');
      const missing = await run(['identity', 'disable', 'carol']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe('error: NOT_FOUND: no identity named "carol"\n');
    });

    it('prints the API code and message of a refusal: a built-in role, a caller without the role', async () => {
      const builtin = await run(['role', 'delete', 'Administrator']);
      expect(builtin.code).toBe(1);
      expect(builtin.stderr).toMatch(/^error: CONFLICT: .*built-in/);
      const reader = (await run(['token', 'grant', '-q', '--identity', 'svc-cli', '--days', '1'])).stdout.trim();
      const refused = await run(['role', 'create', 'Nope'], { env: { APPTOKEN_TOKEN: reader } });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error: ROLE_REQUIRED: /);
    });

    it('manages endpoint rules, and check answers allow or deny as forward-auth would', async () => {
      const rule = parseJson(await run(['endpoint', 'create', '/payroll/*', '--method', 'GET', '--role', 'Payroll', '--json']));
      expect(rule).toMatchObject({ url: '/payroll/*', method: ['GET'], role: ['Payroll'], authentication: true });
      expect(parseJson<Array<{ id: number }>>(await run(['endpoint', 'list', '--json'])).map((entry) => entry.id)).toEqual([rule.id]);
      expect((await run(['identity', 'grant-role', 'svc-cli', 'Payroll'])).code).toBe(0);
      const payroll = (await run(['token', 'grant', '-q', '--identity', 'svc-cli', '--role', 'Payroll', '--days', '1'])).stdout.trim();
      const reader = (await run(['token', 'grant', '-q', '--identity', 'svc-cli', '--role', 'Reader', '--days', '1'])).stdout.trim();

      const allowed = await run(['check', '--token', payroll, '--method', 'GET', '--path', '/payroll/2026']);
      expect(allowed).toMatchObject({ code: 0, stdout: 'allow 200: svc-cli (Payroll)\n' });
      expect(parseJson(await run(['check', '--token', '-', '--path', '/payroll/2026', '--json'], { input: `${payroll}\n` }))).toEqual({
        allow: true,
        status: 200,
        identity: { id: expect.any(Number), name: 'svc-cli', roles: ['Payroll'] },
      });
      const lacking = await run(['check', '--token', reader, '--method', 'GET', '--path', '/payroll/2026']);
      expect(lacking.code).toBe(1);
      expect(lacking.stdout).toMatch(/^deny 403 ROLE_REQUIRED: /);
      const noRule = await run(['check', '--token', payroll, '--method', 'POST', '--path', '/payroll/2026', '--json']);
      expect(noRule.code).toBe(1);
      expect(JSON.parse(noRule.stdout)).toMatchObject({ allow: false, status: 403, code: 'NO_ENDPOINT_RULE' });
      const invalid = await run(['check', '--token', 'not-a-token', '--path', '/payroll/2026']);
      expect(invalid.code).toBe(1);
      expect(invalid.stdout).toMatch(/^deny 401 TOKEN_INVALID: /);

      expect(await run(['endpoint', 'delete', String(rule.id)])).toMatchObject({ code: 0 });
      expect(parseJson(await run(['endpoint', 'list', '--json']))).toEqual([]);
      expect((await run(['role', 'delete', 'Payroll'])).code).toBe(0);
    });
  });

  describe('local commands on a server database (DATABASE_URL)', () => {
    it('admin reset-password --user X --password-stdin sets the password, ends its sessions and is audited, while the server runs', async () => {
      await t.http.post('/api/v1/identity', { name: 'dave', password: 'dave-old-password', roles: ['Reader'] }, { session: await t.http.signin('admin', ADMIN_PASSWORD) });
      const session = await t.http.signin('dave', 'dave-old-password');
      const local = { DATABASE_URL: t.db.url, JWT_SIGNING_KEY: TEST_SIGNING_KEY };
      const result = await run(['admin', 'reset-password', '--user', 'dave', '--password-stdin'], { env: local, input: 'dave-new-password\n' });
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('Reset the password of "dave"');
      expect(result.stderr).not.toContain('dave-new-password');
      expect((await t.http.get('/api/v1/identity/my', { session })).status).toBe(401);
      expect((await t.http.post('/api/v1/signin', { username: 'dave', password: 'dave-old-password' })).status).toBe(401);
      expect((await t.http.post('/api/v1/signin', { username: 'dave', password: 'dave-new-password' })).status).toBe(200);
      const audit = await sql.query(`SELECT action, target_identity_name, detail FROM audit_event WHERE action = 'identity.password_reset'`);
      expect(audit.rows).toEqual([{ action: 'identity.password_reset', target_identity_name: 'dave', detail: { generatedPassword: false } }]);

      const unknown = await run(['admin', 'reset-password', '--user', 'nobody'], { env: local });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe('error: NOT_FOUND: no identity named "nobody"\n');
      const short = await run(['admin', 'reset-password', '--user', 'dave', '--password-stdin'], { env: local, input: 'short\n' });
      expect(short.code).toBe(2);
    });

    it('admin reset-password and migrate against an unreachable DATABASE_URL fail once with DATABASE_UNREACHABLE, no Nest error blocks', async () => {
      const env = { DATABASE_URL: 'postgres://postgres:secret-pw@127.0.0.1:1/nowhere', JWT_SIGNING_KEY: TEST_SIGNING_KEY };
      for (const args of [['admin', 'reset-password', '--user', 'admin'], ['migrate']]) {
        const result = await run(args, { env });
        expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 1, stdout: '' });
        expect(result.stderr).toMatch(/^error: DATABASE_UNREACHABLE: cannot connect to PostgreSQL at 127\.0\.0\.1:1 \(ECONNREFUSED[^\n]*\): is it running, and is DATABASE_URL right\?\n$/);
        expect(result.stderr).not.toContain('secret-pw');
      }
    });

    it('migrate refuses a folder with no embedded database (NO_DATABASE) and creates none, unless --create', async () => {
      const result = await run(['migrate']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: NO_DATABASE: there is no embedded database in .*data: run this where the server runs/);
      expect(existsSync(path.join(home, 'data', 'pgdata'))).toBe(false);
      expect((await run(['migrate', '--help'])).stdout).toContain('--create');
    });

    it('migrate applies the migrations to an empty database and lists them; again, none are pending', async () => {
      const db = await createTestDatabase();
      try {
        const env = { DATABASE_URL: db.url, JWT_SIGNING_KEY: TEST_SIGNING_KEY };
        const first = await run(['migrate', '--json'], { env });
        const applied = parseJson<{ applied: string[] }>(first).applied;
        expect(applied.length).toBeGreaterThan(5);
        const client = await connect(db.url);
        try {
          expect((await client.query('SELECT name FROM migrations ORDER BY id')).rows.map((row: { name: string }) => row.name)).toEqual(applied);
        } finally {
          await client.end();
        }
        expect(await run(['migrate'], { env })).toMatchObject({ code: 0, stdout: 'No pending migrations (PostgreSQL (DATABASE_URL)).\n' });
      } finally {
        await db.drop();
      }
    });
  });

  describe('examples/cli/rotate-expiring.sh', () => {
    it('rotates the tokens expiring within DAYS (skipping those already being rotated), writes the new ones to 0600 files, and leaves the rest', async () => {
      expect((await run(['identity', 'create', 'rotation-bot', '--service', '--role', 'Reader'])).code).toBe(0);
      const grant = async (days: string) => parseJson(await run(['token', 'grant', '--json', '--identity', 'rotation-bot', '--days', days]));
      const soon = [await grant('30'), await grant('30'), await grant('30')];
      const later = await grant('90');
      // 30-day tokens granted 27 days ago: a rotation gives 30 days again.
      await sql.query(
        `UPDATE app_token SET created_at = now() - interval '27 days', expires_at = now() + interval '3 days', jwt_expires_at = now() + interval '3 days' WHERE id = ANY($1)`,
        [soon.map((token) => token.id)],
      );
      // Already rotated with a grace period: its successor exists, so the script leaves it.
      const inGrace = soon.pop();
      expect((await run(['token', 'rotate', String(inGrace.id), '--grace', '600', '--quiet'])).code).toBe(0);
      const expiring = soon.map((token) => token.id);
      const outDir = path.join(home, 'rotated');
      const result = await new Promise<CliResult>((resolve) => {
        const child = spawn('bash', [path.resolve('examples/cli/rotate-expiring.sh')], {
          cwd: home,
          env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), APPTOKEN_URL: t.baseUrl, APPTOKEN: `${process.execPath} ${BIN}`, IDENTITY: 'rotation-bot', DAYS: '14', GRACE: '60', OUT_DIR: outDir, APPTOKEN_TOKEN: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
      expect(result.stderr).toContain('2 token(s) expire within 14 days (identity rotation-bot)');
      expect(result.stderr).not.toContain('error:');
      expect(result.code).toBe(0);
      const lines = result.stdout.trimEnd().split('\n').map((line) => line.split('\t'));
      expect(lines.map(([oldId]) => Number(oldId)).sort()).toEqual([...expiring].sort());
      expect(lines.map(([oldId]) => Number(oldId))).not.toContain(later.id);
      expect(lines.map(([oldId]) => Number(oldId))).not.toContain(inGrace.id);
      for (const [, newId] of lines) {
        const file = path.join(outDir, `${newId}.token`);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const me = await t.http.get('/api/v1/identity/my', { token: readFileSync(file, 'utf8').trim() });
        expect(me.status).toBe(200);
        expect(me.body.tokenId).toBe(Number(newId));
      }
    });
  });

  describe('logout', () => {
    it('signs out on the server and deletes the session file', async () => {
      const [file] = sessionFiles();
      const cookie = (JSON.parse(readFileSync(file, 'utf8')) as { cookie: string }).cookie;
      expect((await t.http.get('/api/v1/identity/my', { headers: { cookie } })).status).toBe(200);
      expect(await run(['logout'])).toMatchObject({ code: 0, stdout: `Signed out of ${t.baseUrl}.\n` });
      expect(sessionFiles()).toEqual([]);
      expect((await t.http.get('/api/v1/identity/my', { headers: { cookie } })).status).toBe(401);
      expect((await run(['whoami'])).code).toBe(1);
    });
  });
});

describe('apptoken admin reset-password on the embedded database', () => {
  let home: string;
  let dataDir: string;
  beforeAll(() => {
    home = mkdtempSync(path.join(tmpdir(), 'apptoken-cli-embedded-'));
    dataDir = path.join(home, 'data');
  });
  afterAll(() => {
    killAll();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('refuses politely while the server holds DATA_DIR, resets it once stopped, and the new password signs in after a restart', async () => {
    const local = { DATA_DIR: dataDir };
    // Before any server made it: no new, empty database is created in its place.
    const none = await cli(['admin', 'reset-password'], { home, env: local });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`error: NO_DATABASE: there is no embedded database in ${dataDir}: run this where the server runs, or set DATA_DIR (or DATABASE_URL) as the server has it\n`);
    expect(existsSync(dataDir)).toBe(false);
    const first = await startServer({ DATA_DIR: dataDir, ADMIN_PASSWORD: 'first-admin-password' });
    let oldCookie: string;
    try {
      const login = await cli(['login', '-u', 'admin'], { home, env: { APPTOKEN_URL: first.baseUrl }, input: 'first-admin-password\n' });
      expect(login.code).toBe(0);
      oldCookie = (JSON.parse(readFileSync(path.join(home, 'config', 'apptoken', readdirSync(path.join(home, 'config', 'apptoken'))[0]), 'utf8')) as { cookie: string }).cookie;
      const refused = await cli(['admin', 'reset-password'], { home, env: local });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(new RegExp(`^error: DATA_DIR_IN_USE: the embedded database in ${dataDir} is in use by a running AppToken Server \\(process ${first.child.pid}\\)\\. Stop the server first`));
    } finally {
      expect(await first.stop()).toBe(0);
    }

    const reset = await cli(['admin', 'reset-password'], { home, env: local });
    expect(reset.code).toBe(0);
    const password = reset.stdout.trim();
    expect(reset.stdout).toBe(`${password}\n`);
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(reset.stderr).toContain('Reset the password of "admin"');

    const second = await startServer({ DATA_DIR: dataDir });
    try {
      const env = { APPTOKEN_URL: second.baseUrl };
      // The reset ended the sessions of the old password.
      expect((await fetch(`${second.baseUrl}/api/v1/identity/my`, { headers: { cookie: oldCookie } })).status).toBe(401);
      expect((await cli(['login', '-u', 'admin'], { home, env, input: 'first-admin-password\n' })).code).toBe(1);
      const login = await cli(['login', '-u', 'admin'], { home, env, input: `${password}\n` });
      expect(login.code).toBe(0);
      expect(parseJson(await cli(['whoami', '--json'], { home, env }))).toMatchObject({ name: 'admin', roles: ['Administrator', 'Operator', 'Reader'] });
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
