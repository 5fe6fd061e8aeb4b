import { ApiError, CliError } from './errors.js';
import { readSession } from './session-store.js';

export const DEFAULT_URL = 'http://localhost:5000';
/** A request (answer included) that takes longer is abandoned: the CLI is interactive, a hung server must not hang it. */
export const DEFAULT_TIMEOUT_SECONDS = 30;
/** The largest answer read: more is not an AppToken Server answering (a list of 500 tokens is well under 1 MB). */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/** all() gives up after this many pages (5 million rows at 500 a page): a server that never ends a list is broken. */
export const MAX_PAGES = 10_000;
const PAGE_SIZE = 500;

export type Credentials = { kind: 'token'; token: string } | { kind: 'session'; cookie: string } | { kind: 'none' };

export interface RequestOptions {
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Answer with any status instead of throwing on a non-2xx one. */
  raw?: boolean;
  /**
   * What a 2xx answer must be (checked after the JSON content type): the name shown when it is not, and the test.
   * Without it, a 2xx answer may be empty or JSON of any shape.
   */
  expect?: Shape;
}

/** An answer's expected shape: a name for the message and a test. */
export interface Shape {
  name: string;
  test: (body: unknown) => boolean;
}

export interface ClientOptions {
  /** Per request, the answer's body included; default {@link DEFAULT_TIMEOUT_SECONDS}. */
  timeoutSeconds?: number;
  maxAnswerBytes?: number;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** The server's URL: --url, else APPTOKEN_URL, else http://localhost:5000. */
export function serverUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const url = option ?? env.APPTOKEN_URL ?? DEFAULT_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new CliError(`the server URL "${url}" is not an http:// or https:// URL (set APPTOKEN_URL or --url)`, 'BAD_URL', 2);
  }
  return url.replace(/\/+$/, '');
}

/**
 * The caller's credentials: APPTOKEN_TOKEN (an app token, sent as Bearer) wins; else the session kept by
 * `apptoken login` for this server.
 */
export async function credentialsFor(url: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials> {
  const token = env.APPTOKEN_TOKEN?.trim();
  if (token) return { kind: 'token', token };
  const session = await readSession(url);
  return session ? { kind: 'session', cookie: session.cookie } : { kind: 'none' };
}

/** The public API over fetch: JSON in and out, errors turned into {@link ApiError} with the body's code. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly credentials: Credentials,
    private readonly options: ClientOptions = {},
  ) {}

  /** The answer was not one AppToken Server gives: a wrong URL, a proxy's page, a broken server. */
  unexpected(detail: string): CliError {
    return new CliError(`the server at ${this.baseUrl} did not answer as AppToken Server (${detail})`, 'UNEXPECTED_ANSWER');
  }

  /** The credentials as request headers, for code that makes its own requests (import-psu); refused when there are none. */
  credentialHeaders(): Record<string, string> {
    if (this.credentials.kind === 'token') return { authorization: `Bearer ${this.credentials.token}` };
    if (this.credentials.kind === 'session') return { cookie: this.credentials.cookie };
    throw this.apiError(401, { code: 'AUTHENTICATION_REQUIRED' });
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const item of value) url.searchParams.append(name, String(item));
      else url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'apptoken-cli', ...options.headers };
    if (this.credentials.kind === 'token' && headers.authorization === undefined) headers.authorization = `Bearer ${this.credentials.token}`;
    if (this.credentials.kind === 'session') headers.cookie = this.credentials.cookie;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutSeconds = this.options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const maxBytes = this.options.maxAnswerBytes ?? MAX_ANSWER_BYTES;
    // A plain timer and controller (AbortSignal.timeout/any can be collected early on Node 20); it covers the body too.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutSeconds * 1000);
    let response: Response;
    let text: string;
    try {
      try {
        response = await fetch(url, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          redirect: 'manual',
          signal: controller.signal,
        });
      } catch (error) {
        if (timedOut) throw this.timeoutError(timeoutSeconds);
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new CliError(`cannot reach ${this.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message}): is the server running? Set APPTOKEN_URL or --url`, 'UNREACHABLE');
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        // Not followed: a redirect would carry the credentials to wherever it points.
        void response.body?.cancel().catch(() => undefined);
        throw new CliError(`${this.baseUrl} redirects to ${new URL(location, url).origin}: set APPTOKEN_URL (or --url) to the server's own address`, 'REDIRECTED');
      }
      try {
        text = await readCapped(response, maxBytes, () => this.unexpected(`an answer larger than ${Math.round(maxBytes / 1024 / 1024)} MB`));
      } catch (error) {
        if (error instanceof CliError) throw error;
        if (timedOut) throw this.timeoutError(timeoutSeconds);
        throw new CliError(`the connection to ${this.baseUrl} broke while reading the answer (${(error as Error).message})`, 'UNREACHABLE');
      }
    } finally {
      clearTimeout(timer);
    }
    const isJson = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(response.headers.get('content-type') ?? '');
    let body: unknown = text;
    let parsed = false;
    if (text !== '' && isJson) {
      try {
        body = JSON.parse(text);
        parsed = true;
      } catch {
        // Left as text.
      }
    }
    const ok = response.status >= 200 && response.status < 300;
    if (!options.raw && !ok) throw this.apiError(response.status, body);
    if (ok && !options.raw) {
      if (text !== '' && !isJson) throw this.unexpected(`a ${response.status} answer of type ${describeType(response.headers.get('content-type'))}`);
      if (text !== '' && !parsed) throw this.unexpected(`a ${response.status} answer that is not valid JSON`);
      if (options.expect && text === '') throw this.unexpected(`an empty ${response.status} answer where ${options.expect.name} was expected`);
      if (options.expect && !options.expect.test(body)) throw this.unexpected(`a ${response.status} answer that is not ${options.expect.name}`);
    }
    return { status: response.status, headers: response.headers, body: (text === '' ? undefined : body) as T };
  }

  private timeoutError(seconds: number): CliError {
    return new CliError(`${this.baseUrl} did not answer within ${seconds} s (--timeout or APPTOKEN_TIMEOUT to wait longer)`, 'TIMEOUT');
  }

  async call<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>(method, path, options)).body;
  }

  /**
   * Every page of a paged list (pageSize 500), each row checked against `row`. Ends at an empty or short page, at
   * X-Total-Count when the server gives a number, or when a page starts with the previous page's first id (a
   * server ignoring `page`); more than {@link MAX_PAGES} pages is an error, not a hang.
   */
  async all<T>(path: string, query: RequestOptions['query'] = {}, row?: Shape): Promise<T[]> {
    const items: T[] = [];
    let previousFirstId: unknown;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const response = await this.request<T[]>('GET', path, { query: { ...query, page, pageSize: PAGE_SIZE }, expect: listOf(row) });
      const rows = response.body;
      if (rows.length === 0) return items;
      const firstId = (rows[0] as { id?: unknown } | null)?.id;
      if (page > 1 && firstId !== undefined && firstId === previousFirstId) return items;
      previousFirstId = firstId;
      items.push(...rows);
      if (rows.length < PAGE_SIZE) return items;
      const header = response.headers.get('x-total-count');
      const total = header !== null && /^\d+$/.test(header.trim()) ? Number(header) : undefined;
      if (total !== undefined && items.length >= total) return items;
    }
    throw this.unexpected(`a list that did not end after ${MAX_PAGES} pages of ${PAGE_SIZE}`);
  }

  /** The API's error, with a hint on what to do when the credentials were missing or have ended. */
  apiError(status: number, body: unknown): ApiError {
    const error = errorFromBody(status, body);
    if (status === 401 && this.credentials.kind === 'none') {
      return new ApiError(status, error.code!, `not signed in to ${this.baseUrl}: run "apptoken login", or set APPTOKEN_TOKEN to an app token`, body);
    }
    if (status === 401 && this.credentials.kind === 'session' && (error.code === 'SESSION_EXPIRED' || error.code === 'AUTHENTICATION_REQUIRED')) {
      return new ApiError(status, error.code, `${error.message} (run "apptoken login" again)`, body);
    }
    return error;
  }
}

/** An error answer as the API gives it: its status, the body's stable `code` and its message. */
export function errorFromBody(status: number, body: unknown): ApiError {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof fields.code === 'string' ? fields.code : `HTTP_${status}`;
  const message = typeof fields.message === 'string' ? fields.message : Array.isArray(fields.message) ? fields.message.join('; ') : `the server answered ${status}`;
  return new ApiError(status, code, message, body);
}

/** A JSON array, each item passing `row` when given. */
export function listOf(row?: Shape): Shape {
  return { name: row ? `a list of ${row.name}` : 'a list', test: (body) => Array.isArray(body) && (row === undefined || body.every(row.test)) };
}

function describeType(contentType: string | null): string {
  return contentType ? contentType.split(';')[0].trim().slice(0, 60) : 'no content type';
}

/** The body as text, refusing (and cancelling) it once it passes `maxBytes`. */
export async function readCapped(response: Response, maxBytes: number, tooLarge: () => Error): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    void response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      void reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
