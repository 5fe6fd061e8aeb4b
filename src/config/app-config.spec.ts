import { describe, expect, it } from '@jest/globals';
import fastify from 'fastify';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './app-config.js';

const STRONG = 'k'.repeat(32);
const URL = 'postgres://app:secret@db:5432/apptoken';

function error(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 5000,
      databaseUrl: undefined,
      dataDir: './data',
      jwt: { signingKey: undefined, previousSigningKeys: [], allowWeakSigningKey: false, issuer: 'IronmanSoftware', audience: 'PowerShellUniversal' },
      enhancedAppTokenSecurity: true,
      appTokenDefaultLifetimeDays: 365,
      appTokenMaxLifetimeDays: undefined,
      sessionTimeoutMinutes: 25,
      adminUsername: 'admin',
      adminPassword: undefined,
      cookieSecure: 'auto',
    });
  });

  it('refuses a signing key under 32 bytes, naming the variable', () => {
    const e = error({ JWT_SIGNING_KEY: 'short' });
    expect(e.variable).toBe('JWT_SIGNING_KEY');
    expect(e.message).toMatch(/5 bytes; at least 32/);
  });

  it('counts key length in UTF-8 bytes', () => {
    // 11 three-byte characters: 33 bytes although 11 characters.
    expect(loadConfig({ JWT_SIGNING_KEY: '€'.repeat(11) }).jwt.signingKey).toBe('€'.repeat(11));
  });

  it('accepts a weak key only with JWT_ALLOW_WEAK_SIGNING_KEY=true', () => {
    expect(loadConfig({ JWT_SIGNING_KEY: 'short', JWT_ALLOW_WEAK_SIGNING_KEY: 'true' }).jwt.signingKey).toBe('short');
    expect(error({ JWT_PREVIOUS_SIGNING_KEYS: `${STRONG},weak`, JWT_SIGNING_KEY: STRONG }).variable).toBe('JWT_PREVIOUS_SIGNING_KEYS');
  });

  it('requires a signing key when DATABASE_URL is set', () => {
    expect(error({ DATABASE_URL: URL }).variable).toBe('JWT_SIGNING_KEY');
    expect(loadConfig({ DATABASE_URL: URL, JWT_SIGNING_KEY: STRONG }).databaseUrl).toBe(URL);
  });

  it.each([['not a url'], ['mysql://db/x'], ['postgres://']])('refuses the malformed DATABASE_URL %s', (value) => {
    expect(error({ DATABASE_URL: value, JWT_SIGNING_KEY: STRONG }).variable).toBe('DATABASE_URL');
  });

  it.each([
    ['APP_TOKEN_DEFAULT_LIFETIME_DAYS', 'a year'],
    ['APP_TOKEN_MAX_LIFETIME_DAYS', '-3'],
    ['SESSION_TIMEOUT_MINUTES', '2.5'],
    ['PORT', '70000'],
    ['ENHANCED_APP_TOKEN_SECURITY', 'maybe'],
    ['COOKIE_SECURE', 'sometimes'],
    ['TRUST_PROXY', 'everyone'],
  ])('refuses %s=%s', (variable, value) => {
    expect(error({ [variable]: value }).variable).toBe(variable);
  });

  it('reads previous keys, booleans and the cookie mode', () => {
    const config = loadConfig({
      JWT_SIGNING_KEY: STRONG,
      JWT_PREVIOUS_SIGNING_KEYS: `${'a'.repeat(32)},${'b'.repeat(40)}`,
      ENHANCED_APP_TOKEN_SECURITY: 'false',
      COOKIE_SECURE: 'true',
      TRUST_PROXY: '10.0.0.0/8,127.0.0.1',
    });
    expect(config.jwt.previousSigningKeys).toEqual(['a'.repeat(32), 'b'.repeat(40)]);
    expect(config.enhancedAppTokenSecurity).toBe(false);
    expect(config.cookieSecure).toBe('always');
    expect(config.trustProxy).toBe('10.0.0.0/8,127.0.0.1');
  });

  it.each([
    ['10.0.0.0/33', /prefix length outside 0 to 32/],
    ['300.1.1.1', /"300.1.1.1" is not an IP address/],
    ['10.0.0.1,,10.0.0.2', /empty entry/],
    ['fd00::/129', /prefix length outside 0 to 128/],
    ['10.0.0.0/8/8', /is not an IP address/],
    ['1.2.3', /is not an IP address/],
    ['101', /between 0 and 100/],
  ])('refuses TRUST_PROXY=%s, naming the variable and the bad entry', (value, problem) => {
    const refused = error({ TRUST_PROXY: value });
    expect(refused.variable).toBe('TRUST_PROXY');
    expect(refused.message).toMatch(problem);
  });

  it.each([
    ['10.0.0.0/8, 127.0.0.1', '10.0.0.0/8,127.0.0.1'],
    ['loopback, uniquelocal', 'loopback,uniquelocal'],
    ['::1,fd00::/8,172.18.0.10', '::1,fd00::/8,172.18.0.10'],
    ['true', true],
    ['2', 2],
    ['0', false],
  ])('accepts TRUST_PROXY=%s, in a form fastify takes', async (value, expected) => {
    const { trustProxy } = loadConfig({ TRUST_PROXY: value });
    expect(trustProxy).toBe(expected);
    // fastify (proxy-addr) throws on an entry it cannot compile: what start-up accepts, it must take.
    const server = fastify({ trustProxy: trustProxy as boolean | string });
    await server.close();
  });

  it('reads the operations settings: access log, metrics listener and shutdown grace', () => {
    expect(loadConfig({})).toMatchObject({ logRequests: true, metricsPort: undefined, metricsHost: '127.0.0.1', shutdownGraceSeconds: 0 });
    expect(loadConfig({ LOG_REQUESTS: 'false', METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5', SHUTDOWN_GRACE_SECONDS: '5' })).toMatchObject({
      logRequests: false,
      metricsPort: 9464,
      metricsHost: '10.0.0.5',
      shutdownGraceSeconds: 5,
    });
    expect(error({ METRICS_PORT: '70000' }).variable).toBe('METRICS_PORT');
    expect(error({ METRICS_HOST: 'metrics.example' }).variable).toBe('METRICS_HOST');
    expect(error({ SHUTDOWN_GRACE_SECONDS: '-1' }).variable).toBe('SHUTDOWN_GRACE_SECONDS');
    expect(error({ LOG_REQUESTS: 'maybe' }).variable).toBe('LOG_REQUESTS');
  });

  it('refuses an admin password outside 8 to 1,024 characters', () => {
    expect(error({ ADMIN_PASSWORD: 'short' }).variable).toBe('ADMIN_PASSWORD');
  });
});

describe('metrics configuration', () => {
  it('has metrics on, no separate listener and loopback by default', () => {
    expect(loadConfig({})).toMatchObject({ metricsEnabled: true, metricsPort: undefined, metricsHost: '127.0.0.1' });
  });

  it.each([['127.0.0.1'], ['127.8.9.10'], ['::1'], ['[::1]'], ['localhost'], ['10.1.2.3'], ['172.16.0.1'], ['172.31.255.254'], ['192.168.1.5'], ['fd12:3456::1'], ['169.254.1.1'], ['::ffff:10.0.0.7']])(
    'accepts the loopback or private METRICS_HOST %s',
    (host) => {
      expect(loadConfig({ METRICS_HOST: host, METRICS_PORT: '9464' }).metricsHost).toBe(host.replace(/^\[(.*)\]$/, '$1'));
    },
  );

  it.each([
    ['0.0.0.0', /wildcard/],
    ['::', /wildcard/],
    ['[::]', /wildcard/],
    ['::ffff:0.0.0.0', /wildcard/],
    ['8.8.8.8', /public address/],
    ['172.32.0.1', /public address/],
    ['2001:db8::1', /public address/],
    ['metrics.example.com', /not an IP address/],
  ])('refuses the METRICS_HOST %s, saying why and what to do instead', (host, why) => {
    const e = error({ METRICS_HOST: host });
    expect(e.variable).toBe('METRICS_HOST');
    expect(e.message).toMatch(why);
    expect(e.message).toMatch(/loopback .* or a private address/);
  });

  it('takes a METRICS_PORT (0: any free port) other than PORT, and only with metrics on', () => {
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(loadConfig({ METRICS_PORT: '0', PORT: '0' }).metricsPort).toBe(0);
    expect(error({ METRICS_PORT: '5000' }).message).toMatch(/must differ from PORT/);
    expect(error({ METRICS_PORT: '70000' }).variable).toBe('METRICS_PORT');
    expect(error({ METRICS_PORT: '9464', METRICS_ENABLED: 'false' }).message).toMatch(/METRICS_ENABLED=false/);
    expect(loadConfig({ METRICS_ENABLED: 'false' }).metricsEnabled).toBe(false);
  });
});

describe('CONFIG_VARIABLES', () => {
  it('names exactly the variables loadConfig reads', () => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get: (_target, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    loadConfig(env);
    // JWT_PREVIOUS_SIGNING_KEYS etc. are read on every path; DATABASE_URL-only checks are too.
    expect([...read].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });
});
