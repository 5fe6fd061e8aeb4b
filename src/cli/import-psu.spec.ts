/* eslint-disable no-control-regex -- these specs look for control characters */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createSecretKey, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { encodeToken } from '../app-token/token-codec.js';
import { parseConcurrency, runImportPsu, type ImportPsuOptions } from './import-psu.js';

/**
 * runImportPsu against a stand-in server that answers as told: retries, the stop on 401/403, parallelism,
 * the progress bar and the no-token rule, none of which a real server shows on demand.
 */

const KEY = createSecretKey(Buffer.from('PleaseUseYourOwnSigningKeyHere', 'utf8'));
const now = Math.floor(Date.now() / 1000);
const mint = (name: string, roles = ['Reader']) => encodeToken({ name, roles, hash: randomUUID(), nbf: now, exp: now + 86400, iss: 'IronmanSoftware', aud: 'PowerShellUniversal' }, KEY);

type Handler = (body: { Token: string; Identity: { Name: string }; Role: string[] }, request: IncomingMessage, response: ServerResponse) => void;

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function stubServer(handler: Handler): Promise<{ url: string; requests: { path: string; headers: IncomingMessage['headers']; body: any }[] }> {
  const requests: { path: string; headers: IncomingMessage['headers']; body: any }[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const body = JSON.parse(text);
      requests.push({ path: request.url ?? '', headers: request.headers, body });
      handler(body, request, response);
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function answer(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function tokenFile(tokens: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'import-psu-'));
  dirs.push(dir);
  const file = path.join(dir, 'tokens.txt');
  writeFileSync(file, `${tokens.join('\n')}\n`);
  return file;
}

function run(options: Partial<ImportPsuOptions> & Pick<ImportPsuOptions, 'baseUrl' | 'file'>) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return runImportPsu({ headers: { authorization: 'Bearer admin-token' }, stdout, stderr, isTTY: false, retryDelaysMs: [1, 1], ...options }).then((result) => ({ ...result, out, err }));
}

describe('runImportPsu', () => {
  it('posts each entry as {Token, Identity: {Name}, Role} with the given headers, to the URL\'s path', async () => {
    const server = await stubServer((_body, _request, response) => answer(response, 201, { id: 1 }));
    const token = mint('ci-bot', ['Operator', 'Reader']);
    const { exitCode, summary } = await run({ baseUrl: `${server.url}/prefix/`, file: tokenFile([token]), headers: { cookie: 'apptoken_session=s', 'x-extra': 'y' } });
    expect(exitCode).toBe(0);
    expect(summary).toMatchObject({ total: 1, migrated: 1, ok: true });
    expect(server.requests).toEqual([
      { path: '/prefix/api/v1/apptoken', headers: expect.objectContaining({ cookie: 'apptoken_session=s', 'x-extra': 'y', 'content-type': 'application/json' }), body: { Token: token, Identity: { Name: 'ci-bot' }, Role: ['Operator', 'Reader'] } },
    ]);
  });

  it('retries a 503 and a dropped connection, then counts the entry as migrated', async () => {
    let calls = 0;
    const server = await stubServer((_body, request, response) => {
      calls++;
      if (calls === 1) answer(response, 503, { code: 'DATABASE_UNAVAILABLE', message: 'PostgreSQL cannot be reached' }, { 'retry-after': '0' });
      else if (calls === 2) request.socket.destroy();
      else answer(response, 201, { id: 9 });
    });
    const { exitCode, summary } = await run({ baseUrl: server.url, file: tokenFile([mint('a')]) });
    expect(exitCode).toBe(0);
    expect(summary.results).toEqual([expect.objectContaining({ outcome: 'migrated', tokenId: 9, attempts: 3 })]);
  });

  it('counts an entry as failed, with the reason, once the tries are used up; the others go on', async () => {
    const failing = mint('broken');
    const server = await stubServer((body, _request, response) => {
      if (body.Token === failing) answer(response, 500, { code: 'INTERNAL_ERROR', message: 'Internal server error', requestId: 'r1' });
      else answer(response, 201, { id: 2 });
    });
    const { exitCode, summary, out } = await run({ baseUrl: server.url, file: tokenFile([mint('ok-1'), failing, mint('ok-2')]) });
    expect(exitCode).toBe(1);
    expect(server.requests.filter((r) => r.body.Token === failing)).toHaveLength(3);
    expect(summary).toMatchObject({ migrated: 2, failed: 1, ok: false, failures: [{ reason: 'server-error', count: 1, entries: [{ entry: 2, line: 2, identity: 'broken', message: 'Internal server error' }] }] });
    expect(out).toMatch(/failed\s+1\n\s+server error: 1\n\s+entry 2 \(line 2\) broken #[0-9a-f]{8}: Internal server error/);
  });

  it('stops at a 403 (the caller is not an Administrator) with the API\'s code, leaving the rest not attempted', async () => {
    const server = await stubServer((_body, _request, response) => answer(response, 403, { statusCode: 403, code: 'ROLE_REQUIRED', message: 'This route requires the role Administrator' }));
    const { exitCode, summary, out } = await run({ baseUrl: server.url, file: tokenFile([mint('a'), mint('b'), mint('c')]), concurrency: 1 });
    expect(exitCode).toBe(1);
    expect(server.requests).toHaveLength(1);
    expect(summary).toMatchObject({ migrated: 0, notAttempted: 3, aborted: { status: 403, code: 'ROLE_REQUIRED', message: 'This route requires the role Administrator' } });
    expect(out).toContain('Stopped: 403 ROLE_REQUIRED: This route requires the role Administrator');
  });

  it('gives up when the server cannot be reached at all, instead of trying every entry', async () => {
    const server = await stubServer(() => undefined);
    const url = server.url;
    await new Promise((done) => servers.pop()!.close(done));
    const { exitCode, summary, err } = await run({ baseUrl: url, file: tokenFile(Array.from({ length: 10 }, (_, i) => mint(`bot-${i}`))), concurrency: 1, json: true });
    expect(exitCode).toBe(1);
    expect(summary).toMatchObject({ failed: 3, notAttempted: 7, failures: [{ reason: 'network', count: 3 }] });
    expect(summary.aborted?.message).toMatch(/gave up after 3 entries in a row failed \(network error\): cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect(err).toMatch(/^import-psu: gave up/);
  });

  it('runs the requests in parallel, as many as asked', async () => {
    const held: ServerResponse[] = [];
    let most = 0;
    let open = 0;
    // Answers only once 3 requests wait at the same time: a run with fewer in flight would time out.
    const server = await stubServer((_body, _request, response) => {
      held.push(response);
      most = Math.max(most, ++open);
      if (held.length === 3) for (const r of held.splice(0)) answer(r, 201, { id: open-- });
    });
    const { exitCode } = await run({ baseUrl: server.url, file: tokenFile(Array.from({ length: 6 }, (_, i) => mint(`p-${i}`))), concurrency: 3, timeoutMs: 5000 });
    expect(exitCode).toBe(0);
    expect(most).toBe(3);
  });

  it('never prints a token, even one a server message quotes; --json lists every entry', async () => {
    const token = mint('leaky');
    const server = await stubServer((body, _request, response) => answer(response, 422, { code: 'MIGRATION_REFUSED', message: `cannot migrate: the token ${body.Token} has expired` }));
    const text = await run({ baseUrl: server.url, file: tokenFile([token]) });
    const json = await run({ baseUrl: server.url, file: tokenFile([token]), json: true });
    for (const output of [text.out, text.err, json.out, json.err]) expect(output).not.toContain(token.split('.')[2]);
    expect(text.out).toContain('the token [token] has expired');
    expect(JSON.parse(json.out)).toMatchObject({ refused: 1, results: [{ entry: 1, line: 1, identity: 'leaky', outcome: 'refused', reason: 'refused', status: 422, code: 'MIGRATION_REFUSED' }] });
  });

  it('draws a progress bar on stderr only when it is a terminal', async () => {
    const server = await stubServer((_body, _request, response) => answer(response, 409, { code: 'CONFLICT', message: 'this token is already stored here' }));
    const file = tokenFile([mint('a'), mint('b')]);
    const tty = await run({ baseUrl: server.url, file, isTTY: true });
    expect(tty.err).toContain('] 2/2  0 migrated · 2 already there · 0 refused');
    expect(tty.err.endsWith('\r\x1b[2K')).toBe(true);
    const piped = await run({ baseUrl: server.url, file, isTTY: false });
    expect(piped.err).toBe('');
    expect(piped).toMatchObject({ exitCode: 0, summary: { alreadyThere: 2 } });
    expect(piped.out).toMatch(/already there\s+2\n/);
  });

  it('reads standard input for "-"', async () => {
    const server = await stubServer((_body, _request, response) => answer(response, 201, { id: 1 }));
    const { summary } = await run({ baseUrl: server.url, file: '-', stdin: Readable.from([Buffer.from(`${mint('from-stdin')}\n`)]) });
    expect(summary).toMatchObject({ file: '(standard input)', format: 'token-list', migrated: 1 });
  });

  it('exits 1 with a message for a file it cannot read, sending nothing', async () => {
    const server = await stubServer((_body, _request, response) => answer(response, 201, {}));
    const missing = await run({ baseUrl: server.url, file: '/nonexistent/tokens.json' });
    expect(missing).toMatchObject({ exitCode: 1, summary: { total: 0, aborted: { message: 'cannot read /nonexistent/tokens.json: no such file' } } });
    const broken = await run({ baseUrl: server.url, file: tokenFile(['[{"Token": ']) });
    expect(broken.summary.aborted?.message).toMatch(/not valid JSON/);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a concurrency outside 1 to 16', async () => {
    await expect(run({ baseUrl: 'http://127.0.0.1:9', file: '-', concurrency: 0 })).rejects.toThrow(RangeError);
    expect(parseConcurrency('4')).toEqual({ ok: true, value: 4 });
    for (const bad of ['0', '17', '2.5', 'four', '']) expect(parseConcurrency(bad)).toMatchObject({ ok: false });
  });

  it('prints the file\'s values and the server\'s messages with no terminal control characters', async () => {
    const server = await stubServer((_body, _request, response) => answer(response, 400, { code: 'UNKNOWN_ROLE', message: 'cannot migrate: role \u001b[2J\u0007 missing' }));
    const dir = mkdtempSync(path.join(tmpdir(), 'import-psu-'));
    dirs.push(dir);
    const file = path.join(dir, 'tokens.json');
    writeFileSync(file, JSON.stringify([{ Token: mint('a'), Identity: { Name: 'a' }, Role: 'Reader', Expiration: '\u001b]0;owned\u0007' }, { Token: mint('b'), Identity: { Name: 'b' }, Role: 'Reader' }]));
    const { out } = await run({ baseUrl: server.url, file });
    expect(out).toContain('?]0;owned?');
    expect(out).toContain('role ?[2J? missing');
    expect(out).not.toMatch(/[\u001b\u0007]/);
  });
});

describe('runImportPsu against something that is not AppToken Server', () => {
  it.each([
    ['a 200 HTML page', (r: ServerResponse) => r.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>')],
    ['an empty 201', (r: ServerResponse) => r.writeHead(201).end()],
    ['a 201 without a numeric id', (r: ServerResponse) => answer(r, 201, { id: 'x' })],
    ['a 204', (r: ServerResponse) => r.writeHead(204).end()],
  ])('stops at %s with UNEXPECTED_ANSWER, counting nothing as migrated', async (_name, reply) => {
    const server = await stubServer((_body, _request, response) => reply(response));
    const { exitCode, summary } = await run({ baseUrl: server.url, file: tokenFile([mint('a'), mint('b')]), concurrency: 1 });
    expect(exitCode).toBe(1);
    expect(summary).toMatchObject({ migrated: 0, ok: false, aborted: { code: 'UNEXPECTED_ANSWER', message: expect.stringMatching(/^the server at http:\/\/127\.0\.0\.1:\d+ did not answer as AppToken Server \(/) } });
    expect(server.requests).toHaveLength(1);
  });
});
