/**
 * The service's configuration, read from the environment once at start-up and validated.
 * Every variable is listed in `.env.example` with its default; contract §1 is the reference.
 */
import { isIP } from 'node:net';

export type CookieSecureMode = 'auto' | 'always' | 'never';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AppConfig {
  port: number;
  host: string;
  /** Unset: embedded PostgreSQL (PGlite) under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  jwt: {
    /** Unset only in embedded mode, where a generated key is loaded from `dataDir` at start-up. */
    signingKey: string | undefined;
    previousSigningKeys: string[];
    allowWeakSigningKey: boolean;
    issuer: string;
    audience: string;
  };
  enhancedAppTokenSecurity: boolean;
  appTokenDefaultLifetimeDays: number;
  appTokenMaxLifetimeDays: number | undefined;
  appTokenRetentionDays: number;
  sessionTimeoutMinutes: number;
  sessionAbsoluteHours: number;
  adminUsername: string;
  adminPassword: string | undefined;
  /** Recovery: give ADMIN_USERNAME the password (given or generated) at start, even on a database with identities. */
  adminResetPassword: boolean;
  cookieSecure: CookieSecureMode;
  /** Fastify's `trustProxy`: false, true, a hop count, or a comma list of addresses/CIDRs. */
  trustProxy: boolean | number | string;
  signin: {
    maxFailuresPerUser: number;
    maxFailuresPerAddress: number;
    windowSeconds: number;
  };
  logLevel: LogLevel;
  /** One access-log line per request, at info (LOG_REQUESTS). */
  logRequests: boolean;
}

/** Every environment variable the service reads; `.env.example` lists each with its default. */
export const CONFIG_VARIABLES = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'DATA_DIR',
  'JWT_SIGNING_KEY',
  'JWT_PREVIOUS_SIGNING_KEYS',
  'JWT_ALLOW_WEAK_SIGNING_KEY',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'ENHANCED_APP_TOKEN_SECURITY',
  'APP_TOKEN_DEFAULT_LIFETIME_DAYS',
  'APP_TOKEN_MAX_LIFETIME_DAYS',
  'APP_TOKEN_RETENTION_DAYS',
  'SESSION_TIMEOUT_MINUTES',
  'SESSION_ABSOLUTE_HOURS',
  'ADMIN_USERNAME',
  'ADMIN_PASSWORD',
  'ADMIN_RESET_PASSWORD',
  'COOKIE_SECURE',
  'TRUST_PROXY',
  'SIGNIN_MAX_FAILURES_PER_USER',
  'SIGNIN_MAX_FAILURES_PER_ADDRESS',
  'SIGNIN_THROTTLE_WINDOW_SECONDS',
  'LOG_LEVEL',
  'LOG_REQUESTS',
] as const;

/** Keys under this many bytes are refused unless explicitly allowed (PSU's default key is short). */
export const MIN_SIGNING_KEY_BYTES = 32;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number;
function integer(env: Env, name: string, fallback: undefined, min: number, max: number): number | undefined;
function integer(env: Env, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function databaseUrl(env: Env): string | undefined {
  const raw = read(env, 'DATABASE_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL; expected postgres://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  if (!url.hostname && !url.searchParams.get('host')) {
    throw new ConfigError('DATABASE_URL', 'names no host; expected postgres://user:password@host:5432/database');
  }
  return raw;
}

function signingKey(env: Env, name: string, allowWeak: boolean): string {
  const key = env[name] ?? '';
  if (Buffer.byteLength(key, 'utf8') < MIN_SIGNING_KEY_BYTES && !allowWeak) {
    throw new ConfigError(
      name,
      `is ${Buffer.byteLength(key, 'utf8')} bytes; at least ${MIN_SIGNING_KEY_BYTES} are required ` +
        `(set JWT_ALLOW_WEAK_SIGNING_KEY=true only to interoperate with a PSU instance on a short key)`,
    );
  }
  return key;
}

/** proxy-addr's names for address ranges, which fastify's trustProxy accepts in a list. */
const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, a CIDR range (address/prefix) or one of {@link TRUST_PROXY_NAMES}; else why not. */
function trustedProxyProblem(entry: string): string | undefined {
  if (TRUST_PROXY_NAMES.has(entry.toLowerCase())) return undefined;
  const [address, prefix, ...extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra.length > 0) return `"${entry}" is not an IP address, a CIDR range or one of ${[...TRUST_PROXY_NAMES].join(', ')}`;
  if (prefix === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return `"${entry}" has a prefix length outside 0 to ${max}`;
  return undefined;
}

/**
 * Fastify's `trustProxy`: whose X-Forwarded-For / -Proto / -Host are believed. A list of the proxies'
 * addresses or CIDR ranges is the safe form; `true` believes any client (who can then pick its own address
 * for the sign-in throttle), and a hop count believes that many entries from the right.
 */
function trustProxy(env: Env): boolean | number | string {
  const raw = read(env, 'TRUST_PROXY');
  if (raw === undefined) return false;
  const lower = raw.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (/^\d+$/.test(raw)) {
    const hops = integer(env, 'TRUST_PROXY', 0, 0, 100);
    return hops === 0 ? false : hops;
  }
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const problem = entry === '' ? 'has an empty entry' : trustedProxyProblem(entry);
    if (problem !== undefined) {
      throw new ConfigError('TRUST_PROXY', `${problem}; expected true, false, a hop count, or a comma list of proxy addresses or CIDR ranges (10.0.0.0/8, ::1, loopback)`);
    }
  }
  return entries.join(',');
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase() as T;
  if (!allowed.includes(value)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return value;
}

/** Reads and validates the environment; throws a {@link ConfigError} naming the first bad variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const allowWeakSigningKey = boolean(env, 'JWT_ALLOW_WEAK_SIGNING_KEY', false);
  const url = databaseUrl(env);
  const key = env.JWT_SIGNING_KEY === undefined || env.JWT_SIGNING_KEY === '' ? undefined : signingKey(env, 'JWT_SIGNING_KEY', allowWeakSigningKey);
  if (url !== undefined && key === undefined) {
    throw new ConfigError('JWT_SIGNING_KEY', 'must be set when DATABASE_URL is set (every instance on one database needs the same key)');
  }
  const previous = (env.JWT_PREVIOUS_SIGNING_KEYS ?? '')
    .split(',')
    .filter((k) => k !== '')
    .map((k, i) => {
      if (Buffer.byteLength(k, 'utf8') < MIN_SIGNING_KEY_BYTES && !allowWeakSigningKey) {
        throw new ConfigError('JWT_PREVIOUS_SIGNING_KEYS', `key ${i + 1} is under ${MIN_SIGNING_KEY_BYTES} bytes`);
      }
      return k;
    });

  const cookieSecureRaw = oneOf(env, 'COOKIE_SECURE', ['auto', 'true', 'false'] as const, 'auto');
  const cookieSecure: CookieSecureMode = cookieSecureRaw === 'true' ? 'always' : cookieSecureRaw === 'false' ? 'never' : 'auto';
  const adminUsername = read(env, 'ADMIN_USERNAME') ?? 'admin';
  const adminPassword = env.ADMIN_PASSWORD === undefined || env.ADMIN_PASSWORD === '' ? undefined : env.ADMIN_PASSWORD;
  if (adminPassword !== undefined && (adminPassword.length < 8 || adminPassword.length > 1024)) {
    throw new ConfigError('ADMIN_PASSWORD', 'must be 8 to 1,024 characters');
  }
  if (adminUsername.length > 256) throw new ConfigError('ADMIN_USERNAME', 'must be at most 256 characters');

  return {
    port: integer(env, 'PORT', 5000, 0, 65535),
    host: read(env, 'HOST') ?? '0.0.0.0',
    databaseUrl: url,
    dataDir: read(env, 'DATA_DIR') ?? './data',
    jwt: {
      signingKey: key,
      previousSigningKeys: previous,
      allowWeakSigningKey,
      issuer: read(env, 'JWT_ISSUER') ?? 'IronmanSoftware',
      audience: read(env, 'JWT_AUDIENCE') ?? 'PowerShellUniversal',
    },
    enhancedAppTokenSecurity: boolean(env, 'ENHANCED_APP_TOKEN_SECURITY', true),
    appTokenDefaultLifetimeDays: integer(env, 'APP_TOKEN_DEFAULT_LIFETIME_DAYS', 365, 1, 36500),
    appTokenMaxLifetimeDays: integer(env, 'APP_TOKEN_MAX_LIFETIME_DAYS', undefined, 1, 36500),
    appTokenRetentionDays: integer(env, 'APP_TOKEN_RETENTION_DAYS', 30, 0, 36500),
    sessionTimeoutMinutes: integer(env, 'SESSION_TIMEOUT_MINUTES', 25, 1, 7 * 24 * 60),
    sessionAbsoluteHours: integer(env, 'SESSION_ABSOLUTE_HOURS', 12, 1, 24 * 30),
    adminUsername,
    adminPassword,
    adminResetPassword: boolean(env, 'ADMIN_RESET_PASSWORD', false),
    cookieSecure,
    trustProxy: trustProxy(env),
    signin: {
      maxFailuresPerUser: integer(env, 'SIGNIN_MAX_FAILURES_PER_USER', 10, 1, 100000),
      maxFailuresPerAddress: integer(env, 'SIGNIN_MAX_FAILURES_PER_ADDRESS', 30, 1, 100000),
      windowSeconds: integer(env, 'SIGNIN_THROTTLE_WINDOW_SECONDS', 600, 1, 86400),
    },
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    logRequests: boolean(env, 'LOG_REQUESTS', true),
  };
}
