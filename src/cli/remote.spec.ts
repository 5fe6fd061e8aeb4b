/* eslint-disable no-control-regex -- these specs look for control characters */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './main.js';
import { sessionFile } from './session-store.js';

/**
 * Remote commands through `run()` against a stand-in server that answers as told: hostile text, endless pages,
 * slow or huge answers, answers of the wrong shape — what a real AppToken Server never gives on demand.
 */

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const servers: Server[] = [];
let configHome: string;
const saved = { ...process.env };

beforeAll(() => {
  configHome = mkdtempSync(path.join(tmpdir(), 'apptoken-remote-'));
});
afterAll(() => rmSync(configHome, { recursive: true, force: true }));
afterEach(async () => {
  process.env = { ...saved };
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => { server.closeAllConnections(); server.close(done); })));
});

async function stubServer(handler: Handler): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    request.resume();
    request.on('end', () => handler(request, response));
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}

/** Runs one command line with an app token; its exit code, stdout and stderr. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  process.env = { ...saved, XDG_CONFIG_HOME: configHome, APPTOKEN_TOKEN: 'stand-in-token', ...env };
  let out = '';
  let err = '';
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  try {
    const code = await run(args);
    return { code, out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = undefined;
  }
}

const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const EVIL = 'x\u001b]0;pwned\u0007\u001b[2J\r\u202e';

describe('text output from the server', () => {
  it('whoami, role list and token grant show the server\'s text with no control characters', async () => {
    const token = { id: 5, identity: { id: 1, name: `bob${EVIL}` }, roles: [`R${EVIL}`], created: '2026-01-01T00:00:00Z', expiration: null, revoked: false, lastUsed: null, description: `d${EVIL}`, token: 'tok' };
    const server = await stubServer((request, response) => {
      if (request.url === '/api/v1/identity/my') json(response, 200, { id: 1, name: `bob${EVIL}`, source: 'local', roles: [`R${EVIL}`], authenticatedBy: 'token', tokenId: 5 });
      else if (request.url === '/api/v1/role') json(response, 200, [{ name: `R${EVIL}`, builtin: false, description: `d${EVIL}` }]);
      else json(response, 201, token);
    });
    for (const args of [['whoami'], ['role', 'list'], ['token', 'grant']]) {
      const result = await cli(['--url', server.url, ...args]);
      expect(result).toMatchObject({ code: 0, err: '' });
      expect(result.out).toContain('x?]0;pwned??[2J');
      expect(result.out).not.toMatch(UNSAFE);
    }
  });

  it('the error line shows the API\'s code and message with no control characters', async () => {
    const server = await stubServer((_request, response) => json(response, 403, { code: `NOPE${EVIL}`, message: `no${EVIL}` }));
    const result = await cli(['--url', server.url, 'role', 'list']);
    expect(result.code).toBe(1);
    expect(result.err).toBe('error: NOPEx?]0;pwned??[2J??: nox?]0;pwned??[2J??\n');
  });

  it('check\'s deny line shows the reason with no control characters', async () => {
    const server = await stubServer((_request, response) => json(response, 401, { code: 'TOKEN_INVALID', message: `bad${EVIL}` }));
    const result = await cli(['--url', server.url, 'check', '--path', '/x']);
    expect(result.code).toBe(1);
    expect(result.out).toBe('deny 401 TOKEN_INVALID: badx?]0;pwned??[2J??\n');
  });

  it('--json stays JSON, with the control characters escaped', async () => {
    const server = await stubServer((_request, response) => json(response, 200, [{ name: `R${EVIL}`, builtin: false, description: '' }]));
    const result = await cli(['--url', server.url, '--json', 'role', 'list']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual([{ name: `R${EVIL}`, builtin: false, description: '' }]);
    expect(result.out).not.toMatch(UNSAFE);
  });
});

const tokenRow = (id: number) => ({ id, identity: { id: 1, name: 'bob' }, roles: ['Reader'], created: '2026-01-01T00:00:00Z', expiration: null, revoked: false, lastUsed: null, description: '' });

describe('paged lists', () => {
  it('stop when a server ignores the page and repeats the same full page', async () => {
    const page = Array.from({ length: 500 }, (_, i) => tokenRow(i + 1));
    const server = await stubServer((_request, response) => json(response, 200, page, { 'x-total-count': 'many' }));
    const result = await cli(['--url', server.url, '--json', 'token', 'list']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toHaveLength(500);
    expect(server.requests).toHaveLength(2);
  });

  it('end at a short page when X-Total-Count is missing', async () => {
    const server = await stubServer((request, response) => {
      const page = Number(new URL(request.url ?? '', 'http://x').searchParams.get('page'));
      json(response, 200, Array.from({ length: page === 1 ? 500 : 3 }, (_, i) => tokenRow(page * 1000 + i)));
    });
    const result = await cli(['--url', server.url, '--json', 'token', 'list']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toHaveLength(503);
    expect(server.requests).toHaveLength(2);
  });
});

describe('slow and huge answers', () => {
  it('a server that does not answer in --timeout seconds is an error, not a hang', async () => {
    const server = await stubServer(() => undefined);
    const result = await cli(['--url', server.url, '--timeout', '1', 'role', 'list']);
    expect(result).toMatchObject({ code: 1, out: '' });
    expect(result.err).toBe(`error: TIMEOUT: ${server.url} did not answer within 1 s (--timeout or APPTOKEN_TIMEOUT to wait longer)\n`);
  });

  it('APPTOKEN_TIMEOUT also sets it, and a body that stalls half-way is timed out too', async () => {
    const server = await stubServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('[');
    });
    const result = await cli(['--url', server.url, 'role', 'list'], { APPTOKEN_TIMEOUT: '1' });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^error: TIMEOUT: .* did not answer within 1 s/);
  });

  it('an answer past 32 MB is refused as it streams in', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const server = await stubServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('[');
      const more = () => {
        while (sent < 64 && response.write(chunk)) sent++;
        if (sent < 64) response.once('drain', () => { sent++; more(); });
        else response.end(']');
      };
      response.on('error', () => undefined);
      more();
    });
    const result = await cli(['--url', server.url, 'role', 'list']);
    expect(result.code).toBe(1);
    expect(result.err).toBe(`error: UNEXPECTED_ANSWER: the server at ${server.url} did not answer as AppToken Server (an answer larger than 32 MB)\n`);
    expect(sent).toBeLessThan(64);
  });
});

describe('answers of the wrong shape', () => {
  const cases: [string, string[], Handler][] = [
    ['an HTML page for token list', ['token', 'list'], (_q, r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<html>hi</html>')],
    ['a JSON string for token list --json', ['--json', 'token', 'list'], (_q, r) => json(r, 200, 'abc')],
    ['an empty 200 for token grant --json', ['--json', 'token', 'grant'], (_q, r) => r.writeHead(200).end()],
    ['an object without the token for grant', ['token', 'grant'], (_q, r) => json(r, 201, { ok: true })],
    ['rows without an identity for token list', ['token', 'list'], (_q, r) => json(r, 200, [{ id: 1 }])],
    ['an HTML 200 for check', ['check', '--path', '/x'], (_q, r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<html>welcome</html>')],
    ['a 404 page for check', ['check', '--path', '/x'], (_q, r) => r.writeHead(404, { 'content-type': 'text/html' }).end('not found')],
    ['null for whoami', ['whoami'], (_q, r) => json(r, 200, null)],
    ['invalid JSON for role list', ['role', 'list'], (_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('[{')],
  ];
  it.each(cases)('%s is UNEXPECTED_ANSWER with exit 1', async (_name, args, handler) => {
    const server = await stubServer(handler);
    const result = await cli(['--url', server.url, ...args]);
    expect(result).toMatchObject({ code: 1, out: '' });
    expect(result.err).toMatch(new RegExp(`^error: UNEXPECTED_ANSWER: the server at ${server.url} did not answer as AppToken Server \\(.+\\)\\n$`));
  });

  it('check still allows on forward-auth\'s empty 200, and reads the identity headers', async () => {
    const server = await stubServer((_q, r) => r.writeHead(200, { 'x-identity-name': 'bob', 'x-identity-id': '3', 'x-identity-roles': 'A, B' }).end());
    const result = await cli(['--url', server.url, '--json', 'check', '--path', '/x']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual({ allow: true, status: 200, identity: { id: 3, name: 'bob', roles: ['A', 'B'] } });
  });
});

describe('a damaged session file', () => {
  it.each(['null', '[]', '42', '"x"', '{"cookie": 5}', '{not json'])('%s is ignored with one warning, as if signed out', async (content) => {
    const server = await stubServer((_request, response) => json(response, 401, { code: 'AUTHENTICATION_REQUIRED', message: 'sign in' }));
    process.env = { ...saved, XDG_CONFIG_HOME: configHome };
    const file = sessionFile(server.url);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    const result = await cli(['--url', server.url, 'whoami'], { APPTOKEN_TOKEN: '' });
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `warning: ignoring the damaged session file ${file} (run "apptoken login" again)\n` +
        `error: AUTHENTICATION_REQUIRED: not signed in to ${server.url}: run "apptoken login", or set APPTOKEN_TOKEN to an app token\n`,
    );
  });
});

describe('the check examples', () => {
  it('pass the token on stdin, never as an argument (shell history, ps)', async () => {
    const help = await cli(['check', '--help']);
    expect(help.out).toContain('| apptoken check --token - ');
    const readme = readFileSync(path.resolve('README.md'), 'utf8');
    expect(readme).toContain('| apptoken check --token - ');
    expect(readme).not.toMatch(/^\s*apptoken check --token "?\$/m);
  });
});
