/**
 * Every configuration variable, once: its default, what it does and where it belongs. `loadConfig` takes its
 * list and defaults from here; `npm run config:docs` writes `.env.example` and the README's configuration table
 * from it (src/config/config-docs.ts), and a test fails when either differs.
 */

export interface ConfigVariable {
  name: string;
  /** The default as written in `.env`; undefined: unset (the description says what unset means). */
  default?: string;
  /** One sentence or two, Markdown (backticks only): the README table and `.env.example` both show it. */
  description: string;
  section: ConfigSection;
  /** A typical value for a variable that is unset by default. */
  example?: string;
  /** What docker-compose.yml gives the app when `.env` leaves it unset, where that differs from `default`. */
  compose?: string;
}

export const CONFIG_SECTIONS = [
  'Server',
  'Database',
  'Signing keys',
  'App tokens',
  'Sessions and sign-in',
  'First Administrator',
  'Webhooks',
  'Logs, metrics and shutdown',
] as const;
export type ConfigSection = (typeof CONFIG_SECTIONS)[number];

/** The variables the service reads. */
export const CONFIG_SCHEMA = [
  { section: 'Server', name: 'PORT', default: '5000', description: 'HTTP port (PSU\'s default).' },
  { section: 'Server', name: 'HOST', default: '0.0.0.0', description: 'Address to listen on.' },
  {
    section: 'Server',
    name: 'TRUST_PROXY',
    default: 'false',
    compose: '172.30.57.10',
    example: '10.0.0.5,fd00::/8',
    description:
      'Your reverse proxies, whose `X-Forwarded-For` / `-Proto` / `-Host` are believed: a comma list of addresses, CIDR ranges and ' +
      '`loopback`/`linklocal`/`uniquelocal` (checked at start-up). Behind a proxy not listed here every client has the proxy\'s address, ' +
      'so failed sign-ins lock them out together. `true` believes **any** client, who can then pick its own address for the sign-in ' +
      'throttle and the audit log; a number trusts that many hops.',
  },
  {
    section: 'Server',
    name: 'COOKIE_SECURE',
    default: 'auto',
    description: 'Secure flag of the session cookie: `auto` (when the request came over HTTPS, as `TRUST_PROXY` tells), `true` or `false`.',
  },
  {
    section: 'Database',
    name: 'DATABASE_URL',
    example: 'postgres://apptoken:apptoken@127.0.0.1:5432/apptoken',
    compose: 'postgres://apptoken:${POSTGRES_PASSWORD:-apptoken}@postgres:5432/apptoken',
    description:
      'PostgreSQL URL. Unset: an embedded PostgreSQL (PGlite, one process) kept under `DATA_DIR`, so `npm start` needs nothing installed. ' +
      'Several instances need one shared PostgreSQL.',
  },
  {
    section: 'Database',
    name: 'DATA_DIR',
    default: './data',
    compose: '/data',
    description:
      'Embedded mode\'s database and generated signing key, and a generated admin password until its first use (directory 0700, files 0600).',
  },
  {
    section: 'Signing keys',
    name: 'JWT_SIGNING_KEY',
    description:
      'HS256 key; its raw UTF-8 bytes are the HMAC key, as PSU\'s `Jwt:SigningKey`. At least 32 bytes. Required with `DATABASE_URL` ' +
      '(the same on every instance); in embedded mode a random key is generated once into `DATA_DIR/signing-key`.',
  },
  {
    section: 'Signing keys',
    name: 'JWT_PREVIOUS_SIGNING_KEYS',
    description: 'Comma-separated older keys still accepted for verification (key rotation).',
  },
  {
    section: 'Signing keys',
    name: 'JWT_ALLOW_WEAK_SIGNING_KEY',
    default: 'false',
    description: 'Allow a key under 32 bytes (to share tokens with a PSU instance on its short default key); logs a loud warning.',
  },
  { section: 'Signing keys', name: 'JWT_ISSUER', default: 'IronmanSoftware', description: 'Issuer of the tokens (PSU\'s value, so tokens move both ways).' },
  { section: 'Signing keys', name: 'JWT_AUDIENCE', default: 'PowerShellUniversal', description: 'Audience of the tokens (PSU\'s value).' },
  {
    section: 'App tokens',
    name: 'ENHANCED_APP_TOKEN_SECURITY',
    default: 'true',
    description: 'Store only a SHA-256 of each app token; its value is shown once, at creation.',
  },
  { section: 'App tokens', name: 'APP_TOKEN_DEFAULT_LIFETIME_DAYS', default: '365', description: 'Lifetime of a grant that names none.' },
  {
    section: 'App tokens',
    name: 'APP_TOKEN_MAX_LIFETIME_DAYS',
    example: '730',
    description: 'Longest lifetime allowed. Unset: any, and "never" is allowed.',
  },
  {
    section: 'App tokens',
    name: 'APP_TOKEN_RETENTION_DAYS',
    default: '30',
    description: 'Revoked or expired tokens stay listed this many days, then are purged.',
  },
  { section: 'Sessions and sign-in', name: 'SESSION_TIMEOUT_MINUTES', default: '25', description: 'Sliding idle timeout of a sign-in session (PSU\'s default).' },
  { section: 'Sessions and sign-in', name: 'SESSION_ABSOLUTE_HOURS', default: '12', description: 'Absolute limit of a session, whatever its activity.' },
  {
    section: 'Sessions and sign-in',
    name: 'SIGNIN_MAX_FAILURES_PER_USER',
    default: '10',
    description: 'Failed sign-ins per user name within the window before 429.',
  },
  {
    section: 'Sessions and sign-in',
    name: 'SIGNIN_MAX_FAILURES_PER_ADDRESS',
    default: '30',
    description: 'Failed sign-ins per client address within the window before 429.',
  },
  { section: 'Sessions and sign-in', name: 'SIGNIN_THROTTLE_WINDOW_SECONDS', default: '600', description: 'The sign-in throttling window.' },
  {
    section: 'First Administrator',
    name: 'ADMIN_USERNAME',
    default: 'admin',
    description: 'On an empty database, create this Administrator.',
  },
  {
    section: 'First Administrator',
    name: 'ADMIN_PASSWORD',
    description:
      'Its password (8 to 1,024 characters). Unset: one is generated, kept in `DATA_DIR/initial-admin-password` and shown at each start ' +
      'until the first sign-in with it. Set later, it changes nothing (see `ADMIN_RESET_PASSWORD`).',
  },
  {
    section: 'First Administrator',
    name: 'ADMIN_RESET_PASSWORD',
    default: 'false',
    description:
      'Recovery of a lost admin password: at start, give `ADMIN_USERNAME` this password (`ADMIN_PASSWORD`, or a generated one printed once), ' +
      'enable it and end its sessions. Remove it afterwards, or it resets again at every start.',
  },
  {
    section: 'Webhooks',
    name: 'WEBHOOK_ALLOWED_HOSTS',
    default: '*',
    example: '*,hooks.internal,10.20.0.0/16',
    description:
      'Where webhooks may be sent, checked when a webhook is saved and again at every delivery, on every address its host resolves to: ' +
      'a comma list of `*` (any host whose addresses are all public), host names, IP addresses and CIDR ranges. A listed name, address or range ' +
      'is allowed even when private or loopback; without `*`, only what is listed. Private, loopback, link-local, unique-local, CGNAT, multicast ' +
      'and cloud metadata addresses are refused unless listed (a metadata address only when listed exactly).',
  },
  {
    section: 'Webhooks',
    name: 'WEBHOOK_TIMEOUT_SECONDS',
    default: '15',
    description: 'A delivery attempt that has not been answered within this many seconds fails and is retried (Standard Webhooks suggests 15 to 30).',
  },
  {
    section: 'Webhooks',
    name: 'WEBHOOK_EXPIRING_DAYS',
    default: '7',
    description: 'Webhooks subscribed to `apptoken.expiring` hear of each token once, this many days before it expires (checked every minute).',
  },
  {
    section: 'Webhooks',
    name: 'WEBHOOK_RETENTION_DAYS',
    default: '30',
    description: 'Delivered and failed deliveries, with their attempts, are kept this many days for `GET /api/v1/webhook/{id}/deliveries`, then purged.',
  },
  {
    section: 'Logs, metrics and shutdown',
    name: 'LOG_LEVEL',
    default: 'info',
    description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. JSON lines on stdout; credentials are redacted.',
  },
  {
    section: 'Logs, metrics and shutdown',
    name: 'LOG_REQUESTS',
    default: 'true',
    description: 'One JSON access-log line per request, at `info` (never a token, cookie, password or query string).',
  },
  {
    section: 'Logs, metrics and shutdown',
    name: 'METRICS_ENABLED',
    default: 'true',
    description: 'Collect Prometheus metrics and serve `GET /metrics` (Administrators) on the API port. `false`: no metrics, and `/metrics` is a 404.',
  },
  {
    section: 'Logs, metrics and shutdown',
    name: 'METRICS_PORT',
    example: '9464',
    description:
      'Also serve `GET /metrics` without authentication on this port (bound to `METRICS_HOST`). Unset: no separate listener; ' +
      '`/metrics` on the API port needs an Administrator.',
  },
  {
    section: 'Logs, metrics and shutdown',
    name: 'METRICS_HOST',
    default: '127.0.0.1',
    description: 'Address of the `METRICS_PORT` listener: loopback or a private address only (10/8, 172.16/12, 192.168/16, fc00::/7, link-local), never a wildcard or public one: it has no authentication.',
  },
  {
    section: 'Logs, metrics and shutdown',
    name: 'SHUTDOWN_GRACE_SECONDS',
    default: '0',
    compose: '5',
    description:
      'On SIGTERM, `/api/v1/ready` answers 503 at once and the server keeps serving this long (so a load balancer takes it out), ' +
      'then stops accepting and finishes the requests it accepted.',
  },
] as const satisfies readonly ConfigVariable[];

export type ConfigVariableName = (typeof CONFIG_SCHEMA)[number]['name'];

/**
 * Variables docker-compose.yml reads from `.env` that the service itself does not (they shape the stack).
 * Listed in `.env.example` and the README beside the service's own.
 */
export const COMPOSE_SCHEMA = [
  { name: 'POSTGRES_PASSWORD', default: 'apptoken', description: 'Password of the `postgres` service\'s `apptoken` user (the app\'s `DATABASE_URL` uses it).' },
  { name: 'API_PORT', default: '5000', description: 'Host port of the load balancer in front of the app replicas: the API, Swagger UI and the console.' },
  { name: 'GATEWAY_PORT', default: '8080', description: 'Host port of the forward-auth gateway in front of the example upstream service.' },
] as const satisfies readonly Omit<ConfigVariable, 'section'>[];

const BY_NAME = new Map<string, ConfigVariable>(CONFIG_SCHEMA.map((variable) => [variable.name, variable]));

/** The schema's default of a variable the service reads (undefined: unset by default). */
export function defaultOf(name: ConfigVariableName): string | undefined {
  return BY_NAME.get(name)?.default;
}
