export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as-is (not JSON-encoded). */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** An app token, sent as `Authorization: Bearer`. */
  token?: string;
  /** A session cookie value. */
  session?: string;
}

/** A small HTTP client over fetch for the e2e specs. */
export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.session) headers.cookie = `apptoken_session=${options.session}`;
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text.length > 0) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }
  post<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, { ...options, body });
  }
  put<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PUT', path, { ...options, body });
  }
  patch<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PATCH', path, { ...options, body });
  }
  delete<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }

  /** Signs in and returns the session cookie's value; fails the test on anything but 200. */
  async signin(username: string, password: string): Promise<string> {
    const response = await this.post('/api/v1/signin', { username, password });
    if (response.status !== 200) throw new Error(`sign-in as ${username} failed: ${response.status} ${response.text}`);
    const cookie = sessionCookie(response.headers);
    if (!cookie) throw new Error('sign-in set no session cookie');
    return cookie;
  }
}

/** The value of the session cookie a response sets, if any. */
export function sessionCookie(headers: Headers): string | undefined {
  for (const line of headers.getSetCookie()) {
    const match = /^apptoken_session=([^;]*)/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}
