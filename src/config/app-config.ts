/**
 * The service's configuration, read from the environment once at start-up and validated.
 * The variables and their defaults come from the schema in config-schema.ts (which also writes `.env.example`
 * and the README's table: `npm run config:docs`); contract §1 is the reference.
 */
import { BlockList, isIP } from 'node:net';
import { parseAllowedHosts, type AllowedHosts } from '../webhook/address-policy.js';
import { CONFIG_SCHEMA, defaultOf, type ConfigVariableName } from './config-schema.js';

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
  /** `apptoken.expiring` is emitted this many days before a token expires. */
  webhookExpiringDays: number;
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
  /** Prometheus metrics: collected, and served at /metrics to Administrators. */
  metricsEnabled: boolean;
  /** One JSON access-log line per request. */
  logRequests: boolean;
  /** Unset: no separate metrics listener (`/metrics` stays on the API port, for Administrators). */
  metricsPort: number | undefined;
  /** Address of the `metricsPort` listener. */
  metricsHost: string;
  /** On SIGTERM, keep serving this long with /ready answering 503 before draining. */
  shutdownGraceSeconds: number;
  webhooks: {
    /** WEBHOOK_ALLOWED_HOSTS, parsed. */
    allowedHosts: AllowedHosts;
    timeoutSeconds: number;
    retentionDays: number;
  };
}

/** Every environment variable the service reads, in the schema's order. */
export const CONFIG_VARIABLES: readonly ConfigVariableName[] = CONFIG_SCHEMA.map((variable) => variable.name);

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

/** The variable's value, else the schema's default (undefined: unset, and no default). */
function valueOf(env: Env, name: ConfigVariableName): string | undefined {
  return read(env, name) ?? defaultOf(name);
}

function withDefault(env: Env, name: ConfigVariableName): string {
  const value = valueOf(env, name);
  if (value === undefined) throw new Error(`config schema: ${name} has no default`);
  return value;
}

function parseInteger(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function integer(env: Env, name: ConfigVariableName, min: number, max: number): number {
  return parseInteger(name, withDefault(env, name), min, max);
}

function optionalInteger(env: Env, name: ConfigVariableName, min: number, max: number): number | undefined {
  const raw = valueOf(env, name);
  return raw === undefined ? undefined : parseInteger(name, raw, min, max);
}

function boolean(env: Env, name: ConfigVariableName): boolean {
  const raw = withDefault(env, name);
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
  const raw = withDefault(env, 'TRUST_PROXY');
  const lower = raw.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (/^\d+$/.test(raw)) {
    const hops = parseInteger('TRUST_PROXY', raw, 0, 100);
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

function oneOf<T extends string>(env: Env, name: ConfigVariableName, allowed: readonly T[]): T {
  const raw = withDefault(env, name);
  const value = raw.toLowerCase() as T;
  if (!allowed.includes(value)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return value;
}

/** Loopback, private (RFC 1918, IPv6 unique local) and link-local ranges: not reachable from the internet. */
const NON_PUBLIC = new BlockList();
NON_PUBLIC.addSubnet('127.0.0.0', 8, 'ipv4');
NON_PUBLIC.addSubnet('10.0.0.0', 8, 'ipv4');
NON_PUBLIC.addSubnet('172.16.0.0', 12, 'ipv4');
NON_PUBLIC.addSubnet('192.168.0.0', 16, 'ipv4');
NON_PUBLIC.addSubnet('169.254.0.0', 16, 'ipv4');
NON_PUBLIC.addAddress('::1', 'ipv6');
NON_PUBLIC.addSubnet('fc00::', 7, 'ipv6');
NON_PUBLIC.addSubnet('fe80::', 10, 'ipv6');
const WILDCARD = new BlockList();
WILDCARD.addAddress('0.0.0.0', 'ipv4');
WILDCARD.addAddress('::', 'ipv6');

/**
 * METRICS_HOST: the unauthenticated metrics listener may bind only to loopback or a private address, never to
 * a wildcard (every interface) or a public one, where anyone could read what the service is doing.
 */
function metricsHost(env: Env): string {
  const raw = withDefault(env, 'METRICS_HOST');
  if (raw.toLowerCase() === 'localhost') return raw;
  const address = raw.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(address);
  const refuse = (what: string) =>
    new ConfigError(
      'METRICS_HOST',
      `${what}: the metrics listener has no authentication, so it binds only to loopback (127.0.0.1, the default, or ::1) or a ` +
        'private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7, link-local); to scrape from elsewhere, ' +
        'scrape GET /metrics on the API port with an Administrator token',
    );
  if (family === 0) throw refuse(`"${raw}" is not an IP address (or localhost)`);
  // BlockList matches an IPv4-mapped IPv6 address (::ffff:10.0.0.1) against the IPv4 ranges.
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (WILDCARD.check(address, type)) throw refuse(`${raw} is a wildcard address (every interface, public ones included)`);
  if (!NON_PUBLIC.check(address, type)) throw refuse(`${raw} is a public address`);
  return address;
}

function webhookAllowedHosts(env: Env): AllowedHosts {
  try {
    return parseAllowedHosts(withDefault(env, 'WEBHOOK_ALLOWED_HOSTS'));
  } catch (error) {
    throw new ConfigError('WEBHOOK_ALLOWED_HOSTS', `${(error as Error).message}; expected a comma list of *, host names, IP addresses and CIDR ranges`);
  }
}

/** Reads and validates the environment; throws a {@link ConfigError} naming the first bad variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const allowWeakSigningKey = boolean(env, 'JWT_ALLOW_WEAK_SIGNING_KEY');
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

  const cookieSecureRaw = oneOf(env, 'COOKIE_SECURE', ['auto', 'true', 'false'] as const);
  const cookieSecure: CookieSecureMode = cookieSecureRaw === 'true' ? 'always' : cookieSecureRaw === 'false' ? 'never' : 'auto';
  const adminUsername = withDefault(env, 'ADMIN_USERNAME');
  const adminPassword = env.ADMIN_PASSWORD === undefined || env.ADMIN_PASSWORD === '' ? undefined : env.ADMIN_PASSWORD;
  if (adminPassword !== undefined && (adminPassword.length < 8 || adminPassword.length > 1024)) {
    throw new ConfigError('ADMIN_PASSWORD', 'must be 8 to 1,024 characters');
  }
  if (adminUsername.length > 256) throw new ConfigError('ADMIN_USERNAME', 'must be at most 256 characters');
  const port = integer(env, 'PORT', 0, 65535);
  const metricsEnabled = boolean(env, 'METRICS_ENABLED');
  // 0: any free port (tests).
  const metricsPort = optionalInteger(env, 'METRICS_PORT', 0, 65535);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) throw new ConfigError('METRICS_PORT', `must differ from PORT (${port})`);
  if (metricsPort !== undefined && !metricsEnabled) throw new ConfigError('METRICS_PORT', 'is set but METRICS_ENABLED=false: unset one of them');

  return {
    port,
    host: withDefault(env, 'HOST'),
    databaseUrl: url,
    dataDir: withDefault(env, 'DATA_DIR'),
    jwt: {
      signingKey: key,
      previousSigningKeys: previous,
      allowWeakSigningKey,
      issuer: withDefault(env, 'JWT_ISSUER'),
      audience: withDefault(env, 'JWT_AUDIENCE'),
    },
    enhancedAppTokenSecurity: boolean(env, 'ENHANCED_APP_TOKEN_SECURITY'),
    appTokenDefaultLifetimeDays: integer(env, 'APP_TOKEN_DEFAULT_LIFETIME_DAYS', 1, 36500),
    appTokenMaxLifetimeDays: optionalInteger(env, 'APP_TOKEN_MAX_LIFETIME_DAYS', 1, 36500),
    appTokenRetentionDays: integer(env, 'APP_TOKEN_RETENTION_DAYS', 0, 36500),
    webhookExpiringDays: integer(env, 'WEBHOOK_EXPIRING_DAYS', 1, 3650),
    sessionTimeoutMinutes: integer(env, 'SESSION_TIMEOUT_MINUTES', 1, 7 * 24 * 60),
    sessionAbsoluteHours: integer(env, 'SESSION_ABSOLUTE_HOURS', 1, 24 * 30),
    adminUsername,
    adminPassword,
    adminResetPassword: boolean(env, 'ADMIN_RESET_PASSWORD'),
    cookieSecure,
    trustProxy: trustProxy(env),
    signin: {
      maxFailuresPerUser: integer(env, 'SIGNIN_MAX_FAILURES_PER_USER', 1, 100000),
      maxFailuresPerAddress: integer(env, 'SIGNIN_MAX_FAILURES_PER_ADDRESS', 1, 100000),
      windowSeconds: integer(env, 'SIGNIN_THROTTLE_WINDOW_SECONDS', 1, 86400),
    },
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    logRequests: boolean(env, 'LOG_REQUESTS'),
    metricsEnabled,
    metricsPort,
    metricsHost: metricsHost(env),
    shutdownGraceSeconds: integer(env, 'SHUTDOWN_GRACE_SECONDS', 0, 3600),
    webhooks: {
      allowedHosts: webhookAllowedHosts(env),
      timeoutSeconds: integer(env, 'WEBHOOK_TIMEOUT_SECONDS', 1, 120),
      retentionDays: integer(env, 'WEBHOOK_RETENTION_DAYS', 1, 3650),
    },
  };
}
