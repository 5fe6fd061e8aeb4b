/**
 * The console's only way to the server: the public API, same origin, with the session cookie. Errors keep the
 * API's own message (and `code`, once the API sends one) so pages show what the server said.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    /** Seconds, from Retry-After on a 429. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export interface Page<T> {
  items: T[];
  total: number;
}

type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export interface RequestOptions {
  method?: string;
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Do not treat a 401 as the end of the session (the sign-in form, the endpoint tester). */
  expect401?: boolean;
}

const listeners = new Set<() => void>();
/** Called when a request that needs the session gets a 401: the session has ended. */
export function onSessionExpired(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return `/api/v1/${path}${text ? `?${text}` : ''}`;
}

function messageOf(body: unknown, status: number): string {
  if (body && typeof body === 'object') {
    const { message, errorMessage } = body as { message?: unknown; errorMessage?: unknown };
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string' && message) return message;
    if (typeof errorMessage === 'string' && errorMessage) return errorMessage;
  }
  if (status === 403) return 'You do not have access to this.';
  if (status === 0) return 'The server could not be reached.';
  return `The server answered ${status}.`;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), { method: options.method ?? 'GET', headers, body, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, messageOf(undefined, 0));
  }
  if (response.ok) return response;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (response.status === 401 && !options.expect401) listeners.forEach((listener) => listener());
  const retry = Number(response.headers.get('Retry-After'));
  const code = parsed && typeof parsed === 'object' ? (parsed as { code?: unknown }).code : undefined;
  throw new ApiError(response.status, messageOf(parsed, response.status), typeof code === 'string' ? code : undefined, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A list route with `page`/`pageSize` and the total in X-Total-Count. */
export async function apiPage<T>(path: string, query: Query): Promise<Page<T>> {
  const response = await send(path, { query });
  const items = (await response.json()) as T[];
  const total = Number(response.headers.get('X-Total-Count') ?? items.length);
  return { items, total: Number.isFinite(total) ? total : items.length };
}

/** The whole response, for a route that answers in headers (the forward-auth verify route). */
export function apiResponse(path: string, options: RequestOptions = {}): Promise<Response> {
  return send(path, options);
}

export interface Identity {
  id: number;
  name: string;
  source: 'local' | 'service' | 'migrated';
  role: string;
  roles: string[];
  disabled: boolean;
  hasPassword: boolean;
  created: string;
  updated: string;
}

export interface Me extends Identity {
  authenticatedBy: 'session' | 'token';
  tokenId: number | null;
}

export interface Role {
  id: number;
  name: string;
  description: string;
  builtin: boolean;
  created: string;
}

export interface AppToken {
  id: number;
  token: string | null;
  identity: { id: number; name: string; source: string; role: string } | null;
  revoked: boolean;
  role: string;
  roles: string[];
  created: string;
  expiration: string | null;
  revokedDate: string | null;
  description: string | null;
  lastUsed?: string | null;
}

export const BUILT_IN_ROLES = ['Administrator', 'Operator', 'Reader'] as const;
export const isAdministrator = (me: Pick<Identity, 'roles'> | null | undefined): boolean => !!me?.roles.includes('Administrator');
