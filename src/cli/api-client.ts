import { ApiError, CliError } from './errors.js';
import { readSession } from './session-store.js';

export const DEFAULT_URL = 'http://localhost:5000';

export type Credentials = { kind: 'token'; token: string } | { kind: 'session'; cookie: string } | { kind: 'none' };

export interface RequestOptions {
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Answer with any status instead of throwing on a non-2xx one. */
  raw?: boolean;
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
  ) {}

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
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), redirect: 'manual' });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${this.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message}): is the server running? Set APPTOKEN_URL or --url`, 'UNREACHABLE');
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      // Not followed: a redirect would carry the credentials to wherever it points.
      throw new CliError(`${this.baseUrl} redirects to ${new URL(location, url).origin}: set APPTOKEN_URL (or --url) to the server's own address`, 'REDIRECTED');
    }
    const text = await response.text();
    let body: unknown = text;
    if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        // Left as text.
      }
    }
    if (!options.raw && (response.status < 200 || response.status >= 300)) throw this.apiError(response.status, body);
    return { status: response.status, headers: response.headers, body: (text === '' ? undefined : body) as T };
  }

  async call<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>(method, path, options)).body;
  }

  /** Every page of a paged list (pageSize 500), by X-Total-Count. */
  async all<T>(path: string, query: RequestOptions['query'] = {}): Promise<T[]> {
    const items: T[] = [];
    for (let page = 1; ; page++) {
      const response = await this.request<T[]>('GET', path, { query: { ...query, page, pageSize: 500 } });
      items.push(...response.body);
      const total = Number(response.headers.get('x-total-count') ?? items.length);
      if (response.body.length === 0 || items.length >= total) return items;
    }
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
