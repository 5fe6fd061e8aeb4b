import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { HttpClient, sessionCookie, type HttpResponse, type RequestOptions } from './support/http.js';
import { killAll, startServer, type RunningServer } from './support/process.js';
import { resign } from './support/tokens.js';

/** Every value that must never reach a log line; named, so a failure says which leaked without printing it. */
const SECRETS: Record<string, string> = {
  'signing key': 'access-log-signing-key-0123456789abcdef-current',
  'previous signing key': 'access-log-signing-key-0123456789abcdef-previous',
  'admin password': 'access-log-admin-password',
  'wrong password': 'access-log-wrong-password',
  'operator password': 'access-log-operator-password',
  'query value': 'access-log-query-marker',
};

interface LogLine {
  level: number;
  msg?: string;
  requestId?: string;
  [field: string]: unknown;
}

/** An HttpClient that remembers each response's X-Request-Id with what was asked. */
class RecordingClient extends HttpClient {
  readonly seen: { id: string; method: string; path: string; status: number }[] = [];

  override async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const response = await super.request<T>(method, path, options);
    const id = response.headers.get('x-request-id');
    if (!id) throw new Error(`${method} ${path} answered without X-Request-Id`);
    this.seen.push({ id, method, path, status: response.status });
    return response;
  }
}

function jsonLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** Names of the secrets found in the text (never the values: test output is a log too). */
function leaked(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, value]) => value.length > 0 && text.includes(value))
    .map(([name]) => name);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('access log (node dist/main.js, stdout captured)', () => {
  let db: TestDatabase;
  const env = () => ({
    DATABASE_URL: db.url,
    JWT_SIGNING_KEY: SECRETS['signing key'],
    JWT_PREVIOUS_SIGNING_KEYS: SECRETS['previous signing key'],
    ADMIN_PASSWORD: SECRETS['admin password'],
    LOG_LEVEL: 'info',
  });

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    killAll();
    await db?.drop();
  });

  it('writes one line per request with its request id, route, status and caller, and never a secret', async () => {
    const server: RunningServer = await startServer(env());
    const http = new RecordingClient(server.baseUrl);
    const secrets: Record<string, string> = { ...SECRETS };
    let output: string;
    let payrollRule: { id: number; url: string };
    let bearerCall: { id: string };
    let lackingRole: { id: string };
    let noRule: { id: string };
    let nonCanonical: { id: string };
    try {
      // Sign-in with the password, a wrong one, a session.
      expect((await http.post('/api/v1/signin', { username: 'admin', password: SECRETS['wrong password'] })).status).toBe(401);
      const signin = await http.post('/api/v1/signin', { username: 'admin', password: SECRETS['admin password'] });
      expect(signin.status).toBe(200);
      const admin = sessionCookie(signin.headers)!;
      secrets['admin session cookie'] = admin;
      expect((await http.get('/api/v1/identity/my', { session: admin })).status).toBe(200);

      // Identities (one with a password), a role, a rule.
      expect((await http.post('/api/v1/role', { name: 'Payroll' }, { session: admin })).status).toBe(201);
      const operator = await http.post('/api/v1/identity', { name: 'operator-1', password: SECRETS['operator password'], roles: ['Operator'] }, { session: admin });
      expect(operator.status).toBe(201);
      const bot = await http.post('/api/v1/identity', { name: 'payroll-bot', source: 'service', roles: ['Payroll'] }, { session: admin });
      expect(bot.status).toBe(201);
      const rule = await http.post('/api/v1/endpoint', { url: '/payroll/*', method: ['GET'], role: ['Payroll'] }, { session: admin });
      expect(rule.status).toBe(201);
      payrollRule = { id: rule.body.id, url: '/payroll/*' };

      // Grants that return tokens in the body (GET with a query, POST, rotation), and the operator's own session.
      const own = await http.get(`/api/v1/apptoken/grant?description=${SECRETS['query value']}`, { session: admin });
      expect(own.status).toBe(200);
      secrets['admin token'] = own.body.token;
      const payroll = await http.post('/api/v1/apptoken/grant', { identity: { id: bot.body.id }, roles: ['Payroll'] }, { session: admin });
      expect(payroll.status).toBe(201);
      secrets['payroll token'] = payroll.body.token;
      const operatorSignin = await http.post('/api/v1/signin', { username: 'operator-1', password: SECRETS['operator password'] });
      secrets['operator session cookie'] = sessionCookie(operatorSignin.headers)!;
      const operatorToken = await http.get('/api/v1/apptoken/grant', { session: secrets['operator session cookie'] });
      secrets['operator token'] = operatorToken.body.token;
      const rotated = await http.post(`/api/v1/apptoken/${operatorToken.body.id}/rotate`, {}, { session: secrets['operator session cookie'] });
      expect(rotated.status).toBe(201);
      secrets['rotated token'] = rotated.body.token;
      // Signed with another key: refused, and its value must not be echoed into the log either.
      secrets['forged token'] = resign(secrets['payroll token'], { exp: Math.floor(Date.now() / 1000) + 60 }, 'another-signing-key-0123456789abcdef-forged');

      // Bearer calls.
      const my = await http.get('/api/v1/identity/my', { token: secrets['admin token'] });
      expect(my.status).toBe(200);
      bearerCall = { id: my.headers.get('x-request-id')! };
      expect((await http.get('/api/v1/apptoken?page=1&pageSize=5', { token: secrets['admin token'] })).status).toBe(200);
      expect((await http.get('/api/v1/identity', { token: secrets['operator token'] })).status).toBe(401); // rotated away
      expect((await http.post('/api/v1/role', { name: 'Nope' }, { token: secrets['rotated token'] })).status).toBe(403); // Operator
      expect((await http.post('/api/v1/apptoken/introspect', { token: secrets['payroll token'] }, { token: secrets['admin token'] })).status).toBe(200);

      // Forward-auth: allowed, and each kind of refusal.
      const verify = (uri: string | undefined, token?: string) =>
        http.get('/api/v1/apptoken/verify', { token, headers: uri === undefined ? {} : { 'x-original-uri': uri, 'x-original-method': 'GET' } });
      expect((await verify('/payroll/2026/11?format=pdf', secrets['payroll token'])).status).toBe(200);
      const lacking = await verify('/payroll/2026/11', secrets['rotated token']);
      expect(lacking.status).toBe(403);
      lackingRole = { id: lacking.headers.get('x-request-id')! };
      expect((await verify('/payroll/2026/11')).status).toBe(401);
      expect((await verify('/payroll/2026/11', secrets['forged token'])).status).toBe(401);
      const unmatched = await verify('/elsewhere/x', secrets['payroll token']);
      expect(unmatched.status).toBe(403);
      noRule = { id: unmatched.headers.get('x-request-id')! };
      const dotted = await verify('/payroll/../admin', secrets['payroll token']);
      expect(dotted.status).toBe(400);
      nonCanonical = { id: dotted.headers.get('x-request-id')! };
      expect((await http.get('/api/v1/apptoken/verify?role=Nope', { token: secrets['payroll token'] })).status).toBe(403);
      expect((await http.get('/api/v1/apptoken/verify', { token: secrets['payroll token'], headers: { 'x-original-uri': '/payroll/1' } })).status).toBe(400);

      // Bad input.
      expect((await http.post('/api/v1/role', { name: 'X', unknown: 1 }, { session: admin })).status).toBe(400);
      expect((await http.request('POST', '/api/v1/role', { rawBody: '{"name": ', headers: { 'content-type': 'application/json' }, session: admin })).status).toBe(400);
      expect((await http.request('POST', '/api/v1/role', { rawBody: 'name=X', headers: { 'content-type': 'text/plain' }, session: admin })).status).toBe(415);
      expect((await http.get('/api/v1/identity/abc', { session: admin })).status).toBe(400);
      expect((await http.get('/api/v1/no-such-route?token=x')).status).toBe(404);
      expect((await http.get('/api/v1/alive')).status).toBe(200);
      expect((await http.post('/api/v1/signout', undefined, { session: admin })).status).toBeLessThan(300);
      await sleep(200);
    } finally {
      await server.stop();
      output = server.output();
    }

    const lines = jsonLines(output);
    const access = lines.filter((line) => line.msg === 'request completed');
    // Every request has exactly one access line, under the id its response carried.
    for (const request of http.seen) {
      const mine = access.filter((line) => line.requestId === request.id);
      expect({ ...request, lines: mine.length }).toEqual({ ...request, lines: 1 });
      expect(mine[0]).toMatchObject({ level: 30, method: request.method, status: request.status, path: request.path.split('?')[0], address: '127.0.0.1' });
      expect(typeof mine[0].durationMs).toBe('number');
    }
    expect(access).toHaveLength(http.seen.length);
    // The route pattern, never the raw path; the caller when known.
    expect(access.find((line) => line.path === '/api/v1/identity/abc')).toMatchObject({ route: '/api/v1/identity/:id', identityId: 1 });
    expect(access.find((line) => line.requestId === bearerCall.id)).toMatchObject({ route: '/api/v1/identity/my', identityId: 1, tokenId: expect.any(Number) });
    expect(access.find((line) => line.path === '/api/v1/no-such-route')?.route).toBeUndefined();

    // Gateway refusals: the reason and the rule, with the request's id (a Nest Logger call in a service).
    const refusals = lines.filter((line) => line.msg === 'forward-auth refused');
    expect(refusals.length).toBeGreaterThanOrEqual(7);
    expect(refusals.every((line) => typeof line.requestId === 'string' && http.seen.some((request) => request.id === line.requestId))).toBe(true);
    expect(refusals.find((line) => line.requestId === lackingRole.id)).toMatchObject({ status: 403, reason: 'Requires role Payroll', rule: { id: payrollRule!.id, url: payrollRule!.url } });
    expect(refusals.find((line) => line.requestId === noRule.id)).toMatchObject({ status: 403, rule: null, method: 'GET', path: '/elsewhere/x' });
    expect(refusals.find((line) => line.requestId === nonCanonical.id)).toMatchObject({ level: 40, status: 400 });

    // No secret anywhere in what the server wrote, and no credential header.
    expect(leaked(output, secrets)).toEqual([]);
    expect(Object.keys(secrets).length).toBeGreaterThanOrEqual(12);
    // No header was logged as a field (the word appears in messages: 'Send "Authorization: Bearer <app token>"').
    expect(output).not.toMatch(/"(authorization|cookie|set-cookie|headers)":/i);
  }, 90_000);

  it('writes no access lines with LOG_REQUESTS=false', async () => {
    const server = await startServer({ ...env(), LOG_REQUESTS: 'false' });
    const http = new RecordingClient(server.baseUrl);
    try {
      expect((await http.get('/api/v1/alive')).status).toBe(200);
      expect((await http.post('/api/v1/signin', { username: 'admin', password: SECRETS['wrong password'] })).status).toBe(401);
      expect((await http.get('/api/v1/apptoken/verify', { headers: { 'x-original-uri': '/payroll/1', 'x-original-method': 'GET' } })).status).toBe(401);
      await sleep(200);
    } finally {
      await server.stop();
    }
    const lines = jsonLines(server.output());
    expect(lines.filter((line) => line.msg === 'request completed')).toEqual([]);
    // Other lines still come, with their request id.
    expect(lines.find((line) => line.msg === 'forward-auth refused')?.requestId).toBe(http.seen[2].id);
  }, 60_000);
});
