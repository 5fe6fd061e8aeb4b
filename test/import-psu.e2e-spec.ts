import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runImportPsu } from '../src/cli/import-psu.js';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { mintPsuToken, nowSeconds, PSU_DEFAULT_KEY } from './support/tokens.js';

/** The built stand-alone entry of `import-psu`; the `apptoken import-psu` command runs the same runImportPsu. */
/** The built CLI, as an admin runs it: `apptoken import-psu FILE`. */
const CLI = path.resolve('bin/apptoken.mjs');
const BUILT = path.resolve('dist/cli/main.js');
const WRONG_KEY = 'a-key-this-instance-does-not-know-at-all';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `import-psu` as an admin runs it: a PSU export moved to a server that holds PSU's signing key, through the
 * built CLI in a child process (async: the server under test runs in this process).
 */
describe('import-psu: bulk migration of PSU tokens through the built CLI', () => {
  let t: TestApp;
  let session: string;
  let bearer: string;
  let dir: string;

  const write = (name: string, content: string | Buffer) => {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  };

  const importPsu = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'import-psu', ...args], {
        // A config folder of its own: no saved session of the machine's user is read.
        env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config'), APPTOKEN_URL: t.baseUrl, APPTOKEN_TOKEN: bearer, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  const json = (run: Run) => JSON.parse(run.stdout);
  const works = async (token: string) => (await t.http.get('/api/v1/identity/my', { token })).status;
  const fresh = (name: string, roles: string[]) => mintPsuToken({ name, roles, exp: nowSeconds() + 60 * 86400 });

  beforeAll(async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run "npm run build" first`);
    t = await startApp({ env: { JWT_SIGNING_KEY: PSU_DEFAULT_KEY, JWT_ALLOW_WEAK_SIGNING_KEY: 'true' } });
    session = await t.http.signin('admin', ADMIN_PASSWORD);
    bearer = (await t.http.get('/api/v1/apptoken/grant?role=Administrator', { session })).body.token;
    dir = mkdtempSync(path.join(tmpdir(), 'import-psu-e2e-'));
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  describe('a JSON-lines export mixing fresh, already migrated, expired, wrong-key, unknown-role and malformed entries', () => {
    const ciBot = fresh('ci-bot', ['Operator']);
    const reports = fresh('reports', ['Reader']);
    const already = fresh('old-timer', ['Reader']);
    const expired = mintPsuToken({ name: 'gone', roles: ['Reader'], nbf: nowSeconds() - 7200, exp: nowSeconds() - 3600 });
    const wrongKey = mintPsuToken({ name: 'Admin', roles: ['Administrator'] }, WRONG_KEY);
    const payroll = fresh('payroll-bot', ['Payroll']);
    let file: string;

    beforeAll(async () => {
      const migrated = await t.http.post('/api/v1/apptoken', { Token: already, Identity: { Name: 'old-timer' }, Role: 'Reader' }, { token: bearer });
      expect(migrated.status).toBe(201);
      const line = (token: string, name: string, role: string, extra: object = {}) => JSON.stringify({ Token: token, Identity: { Name: name }, Role: role, ...extra });
      file = write(
        'mixed.jsonl',
        [
          line(ciBot, 'ci-bot', 'Operator'), // line 1
          line(reports, 'reports', 'Reader', { Expiration: `${new Date(Date.now() + 30 * 86400_000).toISOString().slice(0, 19)}.1234567+00:00` }), // 2
          '', // 3: blank, skipped
          line(already, 'old-timer', 'Reader'), // 4
          line(expired, 'gone', 'Reader'), // 5
          line(wrongKey, 'Admin', 'Administrator'), // 6
          line(payroll, 'payroll-bot', 'Payroll'), // 7
          `{"Token": "${ciBot.slice(0, 30)}`, // 8: cut off
        ].join('\n'),
      );
    });

    it('migrates the fresh ones, counts the migrated one as already there, refuses the rest by reason with line numbers, exit 1', async () => {
      expect(await works(ciBot)).toBe(401);
      const run = await importPsu([file, '--json']);
      expect(run.code).toBe(1);
      const summary = json(run);
      expect(summary).toMatchObject({ format: 'json-lines', total: 7, migrated: 2, alreadyThere: 1, refused: 4, failed: 0, notAttempted: 0, aborted: null, ok: false });
      const byReason = Object.fromEntries(summary.refusals.map((g: any) => [g.reason, g.entries.map((e: any) => [e.entry, e.line, e.identity ?? null])]));
      expect(byReason).toEqual({
        expired: [[4, 5, 'gone']],
        'wrong-key': [[5, 6, 'Admin']],
        'unknown-role': [[6, 7, 'payroll-bot']],
        'unreadable-entry': [[7, 8, null]],
      });
      expect(summary.refusals.find((g: any) => g.reason === 'unknown-role').entries[0].message).toMatch(/role "Payroll" does not exist here/);
      expect(summary.results.filter((r: any) => r.outcome === 'migrated').map((r: any) => r.line)).toEqual([1, 2]);
      // The migrated tokens work here now; the refused ones still do not.
      expect(await works(ciBot)).toBe(200);
      expect(await works(reports)).toBe(200);
      expect(await works(payroll)).toBe(401);
      for (const token of [ciBot, reports, already, expired, wrongKey, payroll]) expect(run.stdout + run.stderr).not.toContain(token.split('.')[2]);
    });

    it('run again: everything that went in is already there, the refused stay refused, exit 1; the text summary says it all', async () => {
      const run = await importPsu([file]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^import-psu .*mixed\.jsonl \(JSON lines, 7 entries\)\n/);
      expect(run.stdout).toMatch(/ migrated\s+0\n/);
      expect(run.stdout).toMatch(/ already there\s+3\n/);
      expect(run.stdout).toMatch(/ refused\s+4\n/);
      expect(run.stdout).toMatch(/expired: 1\n\s+entry 4 \(line 5\) gone #[0-9a-f]{8}: the token has expired\n/);
      expect(run.stdout).toMatch(/wrong key: 1\n\s+entry 5 \(line 6\) Admin #[0-9a-f]{8}: /);
      expect(run.stdout).toMatch(/unknown role: 1\n\s+entry 6 \(line 7\) payroll-bot #[0-9a-f]{8}: role "Payroll" does not exist here/);
      expect(run.stdout).toMatch(/unreadable entry: 1\n\s+entry 7 \(line 8\): not valid JSON\n/);
      expect(run.stdout).toMatch(/Not every entry went in: create the missing roles here, then run the same command again \(entries already there are skipped\)\.\n$/);
    });

    it('once the missing role exists, a third run takes the entry it refused before', async () => {
      expect((await t.http.post('/api/v1/role', { name: 'Payroll' }, { session })).status).toBe(201);
      const summary = json(await importPsu([file, '--json', '--concurrency', '2']));
      expect(summary).toMatchObject({ migrated: 1, alreadyThere: 3, refused: 3 });
      expect(await works(payroll)).toBe(200);
    });
  });

  it("a JSON array as Windows PowerShell writes it (BOM, CRLF, an export's extra properties) of good tokens: exit 0, and 0 again when run twice", async () => {
    const tokens = [fresh('json-bot-1', ['Reader']), fresh('json-bot-2', ['Operator', 'Reader'])];
    const exported = tokens.map((token, i) => ({ Id: i + 1, Token: token, Identity: { Id: 10 + i, Name: `json-bot-${i + 1}` }, Role: i === 0 ? 'Reader' : 'Operator,Reader', Expiration: { value: `/Date(${Date.now() + 20 * 86400_000})/`, DisplayHint: 2, DateTime: 'some day' }, Revoked: false }));
    const file = write('export.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(exported, null, 4).replace(/\n/g, '\r\n'))]));
    const first = await importPsu([file]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/\(JSON array, 2 entries\)\n\s+migrated\s+2\n\s+already there\s+0\n\s+refused\s+0\n\s+failed\s+0\nDone: every entry is migrated or already there\.\n$/);
    for (const token of tokens) expect(await works(token)).toBe(200);
    const again = await importPsu([file, '--json']);
    expect(again.code).toBe(0);
    expect(json(again)).toMatchObject({ migrated: 0, alreadyThere: 2, ok: true });
  });

  it('a plain list of tokens (UTF-16 with BOM, as Windows PowerShell 5.1 writes): identity and roles come from the claims', async () => {
    const tokens = [fresh('listed-bot', ['Reader']), fresh('listed-ops', ['Operator'])];
    const file = write('tokens.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${tokens.join('\r\n')}\r\n`, 'utf16le')]));
    const run = await importPsu([file, '--json']);
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({ format: 'token-list', encoding: 'utf-16le', migrated: 2, ok: true });
    const identity = await t.http.get('/api/v1/identity/my', { token: tokens[1] });
    expect(identity.body).toMatchObject({ name: 'listed-ops', roles: ['Operator'] });
  });

  it("a non-Administrator's token: stopped at the first refusal with the API's code, nothing migrated, exit 1", async () => {
    await t.http.post('/api/v1/identity', { name: 'reader1', password: 'reader1-password', role: 'Reader' }, { session });
    const readerSession = await t.http.signin('reader1', 'reader1-password');
    const readerToken = (await t.http.get('/api/v1/apptoken/grant', { session: readerSession })).body.token;
    const token = fresh('sneaky', ['Reader']);
    const file = write('by-reader.txt', `${token}\n${fresh('sneaky-2', ['Reader'])}\n`);
    const run = await importPsu([file, '--concurrency', '1'], { APPTOKEN_TOKEN: readerToken });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/Stopped: 403 ROLE_REQUIRED: Requires role Administrator/);
    expect(run.stdout).toMatch(/not attempted\s+2\n/);
    const asJson = await importPsu([file, '--json'], { APPTOKEN_TOKEN: readerToken });
    expect(json(asJson)).toMatchObject({ migrated: 0, aborted: { status: 403, code: 'ROLE_REQUIRED' } });
    expect(asJson.stderr).toMatch(/^import-psu: 403 ROLE_REQUIRED: Requires role Administrator/);
    expect(await works(token)).toBe(401);
  });

  it('a session cookie works as well as a bearer token (what `apptoken login` keeps)', async () => {
    const token = fresh('cookie-bot', ['Reader']);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.resume();
    stderr.resume();
    const result = await runImportPsu({ baseUrl: t.baseUrl, headers: { cookie: `apptoken_session=${session}` }, file: write('cookie.txt', token), stdout, stderr, isTTY: false });
    expect(result).toMatchObject({ exitCode: 0, summary: { migrated: 1 } });
    expect(await works(token)).toBe(200);
  });

  it('usage errors exit 2', async () => {
    expect((await importPsu([])).code).toBe(2);
    const bad = await importPsu([write('x.txt', 'x'), '--concurrency', '99']);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/--concurrency must be a whole number from 1 to 16/) });
  });
});
