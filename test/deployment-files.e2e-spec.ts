import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../src/config/app-config.js';

/** No Docker engine runs here: these check what docker-compose.yml, the Dockerfile and .env.example promise. */
describe('deployment files', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'));
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const envExample = readFileSync('.env.example', 'utf8');

  it('lists every configuration variable in .env.example, with the defaults the service applies', () => {
    const entries = [...envExample.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=(.*)$/gm)].map(([, name, value]) => [name, value] as const);
    expect(entries.map(([name]) => name).sort()).toEqual([...CONFIG_VARIABLES].sort());
    const given = Object.fromEntries(entries.filter(([, value]) => value !== ''));
    const { databaseUrl: _ignored, ...fromExample } = loadConfig({ ...given, DATABASE_URL: '' });
    const { databaseUrl: _ignored2, ...defaults } = loadConfig({});
    expect(fromExample).toEqual(defaults);
  });

  it('runs PostgreSQL 16 with a volume and a health check, and the app from the Dockerfile once it is healthy', () => {
    const { postgres, app } = compose.services;
    expect(postgres.image).toMatch(/^postgres:16/);
    expect(postgres.volumes.some((v: string) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
    expect(postgres.healthcheck.test.join(' ')).toMatch(/pg_isready/);
    expect(app.build).toBe('.');
    expect(app.depends_on.postgres.condition).toBe('service_healthy');
    expect(app.ports).toEqual(['${PORT:-5000}:5000']);
    expect(Object.keys(compose.volumes)).toContain('pgdata');
  });

  it('passes the app only variables it knows, a DATABASE_URL naming the postgres service, and demands a signing key', () => {
    const environment = compose.services.app.environment as Record<string, string>;
    for (const name of Object.keys(environment)) expect(CONFIG_VARIABLES).toContain(name);
    const url = new URL(environment.DATABASE_URL.replace(/\$\{[^}]+\}/g, 'x'));
    expect(url.hostname).toBe('postgres');
    expect(url.pathname).toBe(`/${compose.services.postgres.environment.POSTGRES_DB}`);
    expect(environment.JWT_SIGNING_KEY).toMatch(/^\$\{JWT_SIGNING_KEY:\?/);
  });

  it('puts the nginx gateway, configured from the shipped template, in front of the example upstream', () => {
    const { gateway, upstream } = compose.services;
    expect(gateway.image).toMatch(/^nginx:/);
    expect(gateway.volumes).toContain('./deploy/nginx/templates:/etc/nginx/templates:ro');
    expect(gateway.environment).toMatchObject({ APPTOKEN_URL: 'http://app:5000', UPSTREAM_URL: 'http://upstream:3000' });
    expect(gateway.depends_on.app.condition).toBe('service_healthy');
    const template = readFileSync('deploy/nginx/templates/apptoken-gateway.conf.template', 'utf8');
    for (const variable of template.matchAll(/\$\{([A-Z_]+)\}/g)) expect(Object.keys(gateway.environment)).toContain(variable[1]);
    expect(upstream.volumes[0]).toMatch(/^\.\/deploy\/example-upstream\/server\.mjs:/);
    expect(upstream.environment.PORT).toBe(new URL(gateway.environment.UPSTREAM_URL).port);
  });

  it('forwards the raw URI to the upstream (what verify judged), and strips method-override headers (nginx and Traefik)', () => {
    const template = readFileSync('deploy/nginx/templates/apptoken-gateway.conf.template', 'utf8');
    expect(template).toMatch(/proxy_set_header X-Original-URI \$request_uri;/);
    expect(template).toMatch(/proxy_pass \$\{UPSTREAM_URL\};/);
    for (const name of ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']) expect(template).toContain(`proxy_set_header ${name} "";`);
    const traefik = parse(readFileSync('deploy/traefik/dynamic.yml', 'utf8')).http;
    expect(traefik.routers.protected.middlewares).toEqual(['strip-method-override', 'apptoken']);
    expect(traefik.middlewares.apptoken.forwardAuth.address).toMatch(/\/api\/v1\/apptoken\/verify$/);
    expect(traefik.middlewares.apptoken.forwardAuth.authRequestHeaders).toEqual(['Authorization']);
    expect(traefik.middlewares['strip-method-override'].headers.customRequestHeaders).toMatchObject({ 'X-HTTP-Method-Override': '', 'X-HTTP-Method': '', 'X-Method-Override': '' });
  });

  it('believes X-Forwarded-For from the gateway\'s fixed address only, a valid TRUST_PROXY inside the compose subnet', () => {
    const { app, gateway } = compose.services;
    const trusted = /^\$\{TRUST_PROXY:-([^}]+)\}$/.exec(app.environment.TRUST_PROXY)![1];
    const gatewayAddress = gateway.networks.default.ipv4_address;
    expect(trusted).toBe(gatewayAddress);
    expect(loadConfig({ TRUST_PROXY: trusted }).trustProxy).toBe(gatewayAddress);
    const [subnet, prefix] = compose.networks.default.ipam.config[0].subnet.split('/');
    expect(prefix).toBe('24');
    expect(gatewayAddress.split('.').slice(0, 3)).toEqual(subnet.split('.').slice(0, 3));
    // Not the subnet's first address: that is the host's bridge, through which outside clients reach port 5000.
    expect(gatewayAddress.endsWith('.1')).toBe(false);
  });

  it('builds from the lock file and runs the compiled service as an unprivileged user', () => {
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/CMD \["node", "dist\/main\.js"\]/);
    for (const copied of [...dockerfile.matchAll(/^COPY (?!--from)(.+) \.\/?\S*$/gm)].flatMap(([, files]) => files.split(' '))) {
      expect(() => readFileSync(copied.replace(/\/$/, ''))).not.toThrow(/ENOENT/);
    }
  });
});
