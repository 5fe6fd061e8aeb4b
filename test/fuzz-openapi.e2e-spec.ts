import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ERROR_CODES } from '../src/common/error-code.js';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';

/**
 * The served OpenAPI document drives a fuzz of every operation: generated path parameters, queries,
 * headers and bodies (well-formed from the schemas' examples, mistyped, and hostile: NUL and other
 * control characters, lone surrogates, huge numbers, impossible dates, deep or huge JSON, "__proto__"),
 * sent as the Administrator (session cookie or Bearer token), as a Reader (Bearer token), anonymously,
 * or with a forged Authorization or Cookie header. No answer may be a 5xx or
 * carry a stack trace, and every error answer is the error body with a `code` from the ErrorCode enum. Time-bounded (FUZZ_SECONDS, 25 by default); the seed is printed on a failure.
 *
 * Left out or made harmless, so that the fuzz keeps its own sessions and tokens to the end:
 * - GET and POST /api/v1/signout are not sent (they end the session the fuzz signs in with);
 * - PUT, PATCH and DELETE /api/v1/identity/{id} never get the Administrator's or the Reader's id (a new
 *   password, a role change, disabling or deleting would end their session or token);
 * - revoke, rotate and DELETE /api/v1/apptoken/{id} never get the fuzz's own two tokens' ids.
 */

const FUZZ_MS = Number(process.env.FUZZ_SECONDS ?? 25) * 1000;
/** Fewer requests than this in the time given would mean the fuzz did not really run. */
const MIN_REQUESTS = 300;
const MIN_PER_OPERATION = 3;
/** What a stack trace or a database error leaks into a body. */
const STACK = /\n\s+at .+:\d+:\d+|node_modules|QueryFailedError|\.(?:ts|js):\d+:\d+/;

type Schema = {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  enum?: unknown[];
  example?: unknown;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
};
type Parameter = { name: string; in: 'path' | 'query' | 'header'; schema?: Schema };
type Operation = { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } };
type OpenApi = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };
type Auth = 'cookie' | 'bearer' | 'reader' | 'anonymous' | 'forged';

interface FuzzRequest {
  auth: Auth;
  /** For 'forged': what goes in the Authorization or Cookie header instead of a real credential. */
  forged: { header: 'authorization' | 'cookie'; value: string };
  path: Record<string, string>;
  query: Array<[string, string]>;
  headers: Record<string, string | undefined>;
  body?: { raw: string; type: string };
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0007bell',
  '\u001B[31mred',
  '\uD800',
  'x\uDFFFy',
  '\u202Eevil',
  'zero\u200Bwidth',
  '\r\nX-Injected: 1',
  '../../etc/passwd',
  '%00',
  '%2e%2e%2f',
  '__proto__',
  'constructor',
  'null',
  '[]',
  "'; DROP TABLE role; --",
  'x'.repeat(300),
  'y'.repeat(5000),
  '한'.repeat(30),
  '\uFDFA'.repeat(20),
  'e\u0301'.repeat(150),
  'Administratօr',
  'ADMIN ISTRATOR',
  'never',
  'NEVER',
  '2030-02-30T00:00:00+01:00',
  '-271821-04-20T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '/Date(999999999999999)/',
  '/Date(-1)/',
  '1e309',
  '-1',
  '0',
  '2147483648',
  '9007199254740993',
  '99999999999999999999',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '*',
  'GET,POST,BREW',
  '/payroll/*',
  '/a/../b',
  'Administrator, Reader',
  'admin',
];
const HOSTILE_NUMBERS = [0, -1, 1, 2, 3, 1.5, -0.5, 2 ** 31 - 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e21, Number.MAX_VALUE, Number.MIN_VALUE, 604801, 36501];
/** Bodies JSON.stringify cannot make. */
const RAW_BODIES = [
  '{',
  '[]',
  'null',
  '"text"',
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"isAdmin":true}}}',
  '{"a":1e309}',
  '{"id":-0}',
  '{"name":"\\ud800"}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`,
  `[${new Array(20_000).fill('0').join(',')}]`,
  `{"roles":[${new Array(15_000).fill('"R"').join(',')}]}`,
];

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
);
const hostileValue = fc.oneof(
  hostileString,
  fc.constantFrom<unknown>(...HOSTILE_NUMBERS),
  fc.integer(),
  fc.double(),
  fc.constantFrom<unknown>(null, true, false, [], {}),
  fc.jsonValue({ maxDepth: 3 }),
);

/** The string a query, header or path carries for a generated value. */
/** An error body as the API promises it: statusCode, error, message, and a code of the ErrorCode enum. */
function isErrorBody(status: number, text: string): boolean {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    return body.statusCode === status && typeof body.error === 'string' && typeof body.message === 'string' && (ERROR_CODES as readonly unknown[]).includes(body.code);
  } catch {
    return false;
  }
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
}

function encodePath(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // A lone surrogate cannot be UTF-8: send its bytes as CESU-8 would, which a server must survive too.
    return [...value].map((char) => (/[\uD800-\uDFFF]/.test(char) ? '%ED%A0%80' : encodeURIComponent(char))).join('');
  }
}

class SchemaArbitraries {
  constructor(private readonly schemas: Record<string, Schema>) {}

  private resolve(schema: Schema): Schema {
    if (schema.$ref) return this.resolve(this.schemas[schema.$ref.replace('#/components/schemas/', '')]);
    if (schema.allOf?.length === 1) return this.resolve(schema.allOf[0]);
    return schema;
  }

  /** Mostly well-typed values (examples included, so that some requests succeed), sometimes anything. */
  value(input: Schema, depth = 0): fc.Arbitrary<unknown> {
    const schema = this.resolve(input);
    const examples = schema.example === undefined ? [] : [fc.constant(schema.example)];
    let typed: fc.Arbitrary<unknown>;
    if (schema.enum) typed = fc.constantFrom(...schema.enum);
    else if (schema.type === 'string') typed = fc.oneof(...examples, fc.string({ maxLength: 20 }), hostileString);
    else if (schema.type === 'number' || schema.type === 'integer') typed = fc.oneof(...examples, fc.integer({ min: 0, max: 100 }), fc.constantFrom(...HOSTILE_NUMBERS));
    else if (schema.type === 'boolean') typed = fc.boolean();
    else if (schema.type === 'array') typed = fc.oneof(...examples, fc.array(this.value(schema.items ?? {}, depth + 1), { maxLength: 4 }));
    else if (schema.properties && depth < 3) typed = this.object(schema, depth + 1);
    else typed = hostileValue;
    // Explicit nulls on their own too: PowerShell sends one for every unset property.
    return fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: hostileValue }, { weight: 1, arbitrary: fc.constant(null) });
  }

  /** Some of the declared properties (in any letter case, as PowerShell sends them), sometimes an unknown one. */
  object(input: Schema, depth = 0): fc.Arbitrary<Record<string, unknown>> {
    const schema = this.resolve(input);
    const properties = Object.entries(schema.properties ?? {});
    const record = fc.record(Object.fromEntries(properties.map(([name, inner]) => [name, this.value(inner, depth)])), { requiredKeys: [] });
    return fc.tuple(record, fc.boolean(), fc.option(fc.tuple(hostileString, hostileValue), { freq: 5 })).map(([value, upper, extra]) => {
      const result: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) result[upper ? key[0].toUpperCase() + key.slice(1) : key] = inner;
      if (extra) Object.defineProperty(result, extra[0], { value: extra[1], enumerable: true, configurable: true, writable: true });
      return result;
    });
  }
}

interface Target {
  method: string;
  template: string;
  operation: Operation;
}

describe('fuzzing every operation of the served OpenAPI document', () => {
  let t: TestApp;
  let session: string;
  let bearer: string;
  let bearerId: number;
  let reader: string;
  let readerId: number;
  let readerTokenId: number;
  const adminId = 1;
  let document: OpenApi;

  beforeAll(async () => {
    t = await startApp();
    session = await t.http.signin('admin', ADMIN_PASSWORD);
    const granted = await t.http.get('/api/v1/apptoken/grant?role=Administrator&description=fuzz', { session });
    bearer = granted.body.token;
    bearerId = granted.body.id;
    const readerIdentity = await t.http.post('/api/v1/identity', { name: 'fuzz-reader', password: 'fuzz-reader-password', roles: ['Reader'] }, { session });
    readerId = readerIdentity.body.id;
    const readerToken = await t.http.get(`/api/v1/apptoken/grant/${readerId}?description=fuzz`, { session });
    reader = readerToken.body.token;
    readerTokenId = readerToken.body.id;
    // Something to find: a custom role, a service identity with a token, an endpoint rule.
    await t.http.post('/api/v1/role', { name: 'Payroll' }, { session });
    const bot = await t.http.post('/api/v1/identity', { name: 'payroll-bot', source: 'service', roles: ['Payroll', 'Reader'] }, { session });
    await t.http.get(`/api/v1/apptoken/grant/${bot.body.id}`, { session });
    await t.http.post('/api/v1/endpoint', { url: '/payroll/*', method: 'GET', role: 'Payroll' }, { session });
    document = (await t.http.get('/swagger/json')).body;
  });
  afterAll(async () => t?.close());

  it('answers no 5xx and no stack trace, to the Administrator, a Reader or anyone', async () => {
    const arbitraries = new SchemaArbitraries(document.components.schemas);
    const targets: Target[] = [];
    for (const [template, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (template === '/api/v1/signout') continue;
        targets.push({ method: method.toUpperCase(), template, operation });
      }
    }
    expect(targets.length).toBeGreaterThan(30);

    const counts = new Map<string, number>();
    const statuses = new Map<number, number>();
    let sent = 0;

    const pathValue = (target: Target, name: string): fc.Arbitrary<string> => {
      const numeric = /id$/i.test(name);
      // Ids the fuzz must not spend: its own identity for writes, its own token for revoke, rotate and delete.
      const write = target.method !== 'GET';
      const forbidden =
        write && target.template.startsWith('/api/v1/identity/') ? [String(adminId), String(readerId)] : write && target.template.startsWith('/api/v1/apptoken/{id}') ? [String(bearerId), String(readerTokenId)] : [];
      const candidates = numeric
        ? fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }).map(String) }, { weight: 2, arbitrary: hostileString }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS).map(String) })
        : fc.oneof(fc.constantFrom('Administrator', 'Reader', 'Payroll', 'payroll', 'Nobody'), hostileString);
      return candidates.filter((value) => !forbidden.includes(value.trim()));
    };

    const requestFor = (target: Target): fc.Arbitrary<FuzzRequest> => {
      const parameters = target.operation.parameters ?? [];
      const path = fc.record(Object.fromEntries(parameters.filter((p) => p.in === 'path').map((p) => [p.name, pathValue(target, p.name)])));
      const query = fc
        .array(
          fc.oneof(
            ...parameters.filter((p) => p.in === 'query').map((p) => fc.tuple(fc.constant(p.name), arbitraries.value(p.schema ?? {}).map(asText))),
            fc.tuple(hostileString, hostileString),
          ),
          { maxLength: 5 },
        )
        .map((pairs) => pairs as Array<[string, string]>);
      const headers = fc.record(
        Object.fromEntries(parameters.filter((p) => p.in === 'header').map((p) => [p.name, arbitraries.value(p.schema ?? {}).map(asText)])),
        { requiredKeys: [] },
      );
      const content = target.operation.requestBody?.content ?? {};
      const json = content['application/json']?.schema;
      const form = content['application/x-www-form-urlencoded']?.schema;
      const bodies: Array<fc.Arbitrary<FuzzRequest['body']>> = [];
      if (json) {
        bodies.push(arbitraries.object(json).map((value) => ({ raw: JSON.stringify(value), type: 'application/json' })));
        bodies.push(hostileValue.map((value) => ({ raw: JSON.stringify(value) ?? 'null', type: 'application/json' })));
        bodies.push(fc.constantFrom(...RAW_BODIES).map((raw) => ({ raw, type: 'application/json' })));
      }
      if (form) {
        bodies.push(
          arbitraries.object(form).map((value) => ({ raw: new URLSearchParams(Object.entries(value).map(([k, v]): [string, string] => [k, asText(v)])).toString(), type: 'application/x-www-form-urlencoded' })),
        );
      }
      const body = bodies.length > 0 ? fc.option(fc.oneof(...bodies), { freq: 8 }).map((value) => value ?? undefined) : fc.constant(undefined);
      const forged = fc.record({
        header: fc.constantFrom<'authorization' | 'cookie'>('authorization', 'cookie'),
        value: fc.oneof(
          hostileString.map((value) => `Bearer ${value}`),
          hostileString.map((value) => `apptoken_session=${value}`),
          fc.constantFrom(`Bearer ${'A'.repeat(9000)}`, 'Bearer a.b.c', 'Basic YWRtaW46YWRtaW4=', `apptoken_session=${'x'.repeat(4000)}`, 'apptoken_session=a; apptoken_session=b', 'Bearer'),
          fc.constant(null).map(() => `Bearer ${bearer.slice(0, -2)}AA`),
        ),
      });
      return fc.record({ auth: fc.constantFrom<Auth>('cookie', 'bearer', 'reader', 'anonymous', 'forged'), forged, path, query, headers, body });
    };

    const send = async (target: Target, request: FuzzRequest): Promise<{ status: number; text: string }> => {
      const url = new URL(t.baseUrl + target.template.replace(/\{(\w+)\}/g, (_, name: string) => encodePath(request.path[name])));
      for (const [name, value] of request.query) url.searchParams.append(name, value);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        // fetch refuses what HTTP cannot carry in a header; such a value never reaches any server.
        if (value !== undefined && /^[\t\x20-\x7E\x80-\xFF]*$/.test(value)) headers[name] = value;
      }
      if (request.auth === 'cookie') headers.cookie = `apptoken_session=${session}`;
      if (request.auth === 'bearer') headers.authorization = `Bearer ${bearer}`;
      if (request.auth === 'reader') headers.authorization = `Bearer ${reader}`;
      if (request.auth === 'forged' && /^[\t\x20-\x7E]*$/.test(request.forged.value)) headers[request.forged.header] = request.forged.value;
      if (request.body) headers['content-type'] = request.body.type;
      const response = await fetch(url, { method: target.method, headers, body: request.body?.raw, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
      const text = await response.text();
      sent++;
      counts.set(`${target.method} ${target.template}`, (counts.get(`${target.method} ${target.template}`) ?? 0) + 1);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      return { status: response.status, text };
    };

    const deadline = Date.now() + FUZZ_MS;
    for (const [index, target] of targets.entries()) {
      // An equal share of what is left, so every operation gets its turn even when the machine is slow.
      const budget = Math.max(200, (deadline - Date.now()) / (targets.length - index));
      await fc.assert(
        fc.asyncProperty(requestFor(target), async (request) => {
          const response = await send(target, request);
          // Thrown, not expected: fast-check then reports the request (and the seed to replay it).
          if (response.status >= 500 || STACK.test(response.text)) {
            throw new Error(`${target.method} ${target.template} as ${request.auth} answered ${response.status}: ${response.text.slice(0, 300)}`);
          }
          if (response.status >= 400 && !isErrorBody(response.status, response.text)) {
            throw new Error(`${target.method} ${target.template} as ${request.auth} answered ${response.status} without a known error code: ${response.text.slice(0, 300)}`);
          }
        }),
        { numRuns: 10_000, interruptAfterTimeLimit: budget, markInterruptAsFailure: false },
      );
    }

    const summary = [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${count}`).join(', ');
    process.stdout.write(`\nOpenAPI fuzz: ${sent} requests to ${targets.length} operations in ${Math.round(FUZZ_MS / 1000)} s (${summary})\n`);
    expect(sent).toBeGreaterThan(MIN_REQUESTS);
    const skimped = targets.map((target) => `${target.method} ${target.template}`).filter((operation) => (counts.get(operation) ?? 0) < MIN_PER_OPERATION);
    expect(skimped).toEqual([]);
    // Some requests got through validation and did their work: the fuzz was not all 400s and 401s.
    expect([...statuses.entries()].filter(([status]) => status < 300).reduce((total, [, count]) => total + count, 0)).toBeGreaterThan(sent / 50);
    // And the fuzz kept its session and tokens to the end.
    expect((await t.http.get('/api/v1/identity/my', { session })).status).toBe(200);
    expect((await t.http.get('/api/v1/identity/my', { token: bearer })).status).toBe(200);
    expect((await t.http.get('/api/v1/identity/my', { token: reader })).body).toMatchObject({ name: 'fuzz-reader', roles: ['Reader'] });
  }, FUZZ_MS + 60_000);
});
