import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../src/config/app-config.js';
import { CONFIG_DOCS_COMMAND, README_TABLE_BEGIN, README_TABLE_END, renderConfigTable, renderEnvExample } from '../src/config/config-docs.js';
import { COMPOSE_SCHEMA, CONFIG_SCHEMA } from '../src/config/config-schema.js';

const TEMPLATES = 'deploy/nginx/templates';

/** The Compose Specification's JSON schema, vendored (see its README): draft-07 under its https address. */
function composeValidator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const draft07 = JSON.parse(readFileSync('node_modules/ajv/dist/refs/json-schema-draft-07.json', 'utf8'));
  ajv.addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' });
  return ajv.compile(JSON.parse(readFileSync('test/vendor/compose-spec/compose-spec.json', 'utf8')));
}

/** No Docker engine runs here: these check what docker-compose.yml, the Dockerfile and .env.example promise. */
describe('deployment files', () => {
  const composeText = readFileSync('docker-compose.yml', 'utf8');
  const compose = parse(composeText);
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const envExample = readFileSync('.env.example', 'utf8');
  const templateText = (name: string) => readFileSync(`${TEMPLATES}/${name}`, 'utf8');

  it(`keeps .env.example and the README's configuration table as the schema writes them (${CONFIG_DOCS_COMMAND})`, () => {
    const stale = `is not what src/config/config-schema.ts generates: run "${CONFIG_DOCS_COMMAND}" and commit the result`;
    if (envExample !== renderEnvExample()) throw new Error(`.env.example ${stale}`);
    const readme = readFileSync('README.md', 'utf8');
    const begin = readme.indexOf(README_TABLE_BEGIN);
    const end = readme.indexOf(README_TABLE_END);
    if (begin < 0 || end < begin) throw new Error(`README.md lost the configuration table's markers: put back ${README_TABLE_BEGIN} and ${README_TABLE_END}, then run "${CONFIG_DOCS_COMMAND}"`);
    if (readme.slice(begin + README_TABLE_BEGIN.length, end).trim() !== renderConfigTable()) throw new Error(`README.md's configuration table ${stale}`);
  });

  it('lists every variable in .env.example, commented out at the default the service applies', () => {
    const entries = [...envExample.matchAll(/^# ([A-Z][A-Z0-9_]+)=(.*)$/gm)].map(([, name, value]) => [name, value] as const);
    expect(entries.map(([name]) => name).sort()).toEqual([...CONFIG_VARIABLES, ...COMPOSE_SCHEMA.map((v) => v.name)].sort());
    // Nothing is set by copying it to .env.
    expect(envExample).not.toMatch(/^[A-Z][A-Z0-9_]*=/m);
    const given = Object.fromEntries(entries.filter(([name, value]) => value !== '' && (CONFIG_VARIABLES as readonly string[]).includes(name)));
    expect(loadConfig(given)).toEqual(loadConfig({}));
    expect(Object.keys(given).sort()).toEqual(CONFIG_SCHEMA.filter((v) => 'default' in v).map((v) => v.name).sort());
  });

  it('is a valid Compose file by the Compose Specification\'s JSON schema', () => {
    const validate = composeValidator();
    const valid = validate(compose);
    expect(valid ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
    // The validator does refuse what the specification does not allow.
    expect(validate({ services: { app: { image: 'x', deploy: { replicas: 2, replica: 3 } } } })).toBe(false);
  });

  it('uses only variables that .env.example lists', () => {
    const used = new Set([...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map(([, name]) => name));
    const listed = new Set([...envExample.matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map(([, name]) => name));
    expect([...used].filter((name) => !listed.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThan(CONFIG_VARIABLES.length);
  });

  it('lets .env set every variable the app reads, with the schema\'s default (or the stack\'s own) otherwise', () => {
    const environment = compose.services.app.environment as Record<string, string>;
    expect(Object.keys(environment).sort()).toEqual([...CONFIG_VARIABLES].sort());
    for (const variable of CONFIG_SCHEMA) {
      if (variable.name === 'JWT_SIGNING_KEY') continue;
      const fallback = ('compose' in variable ? variable.compose : undefined) ?? ('default' in variable ? variable.default : '');
      expect(`${variable.name}: ${environment[variable.name]}`).toBe(`${variable.name}: \${${variable.name}:-${fallback}}`);
    }
    // Required: the stack refuses to start without a key, rather than each replica generating its own.
    expect(environment.JWT_SIGNING_KEY).toMatch(/^\$\{JWT_SIGNING_KEY:\?/);
    const url = new URL(CONFIG_SCHEMA.find((v) => v.name === 'DATABASE_URL')!.compose.replace(/\$\{[^}]+\}/g, 'x'));
    expect(url.hostname).toBe('postgres');
    expect(url.pathname).toBe(`/${compose.services.postgres.environment.POSTGRES_DB}`);
    expect(environment.SHUTDOWN_GRACE_SECONDS).toBe('${SHUTDOWN_GRACE_SECONDS:-5}');
  });

  it('runs PostgreSQL 16 with a volume, and two or more app replicas with no host port, each service health-checked', () => {
    const { postgres, app } = compose.services;
    expect(postgres.image).toMatch(/^postgres:16/);
    expect(postgres.volumes.some((v: string) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
    expect(postgres.healthcheck.test.join(' ')).toMatch(/pg_isready/);
    expect(app.build).toBe('.');
    expect(app.depends_on.postgres.condition).toBe('service_healthy');
    expect(app.deploy.replicas).toBeGreaterThanOrEqual(2);
    expect(app.ports).toBeUndefined();
    expect(app.container_name).toBeUndefined();
    expect(app.healthcheck.test.join(' ')).toMatch(/\/api\/v1\/ready/);
    for (const [name, service] of Object.entries<any>(compose.services)) expect(`${name}: ${service.healthcheck?.test ? 'health-checked' : 'none'}`).toBe(`${name}: health-checked`);
    expect(Object.keys(compose.volumes)).toContain('pgdata');
  });

  it('puts nginx in front of the replicas: a load balancer for the API and console, and forward-auth for the upstream', () => {
    const { gateway, upstream } = compose.services;
    expect(gateway.image).toMatch(/^nginx:/);
    expect(gateway.volumes).toContain(`./${TEMPLATES}:/etc/nginx/templates:ro`);
    expect(gateway.depends_on.app.condition).toBe('service_healthy');
    expect(gateway.ports).toEqual(['${API_PORT:-5000}:5000', '${GATEWAY_PORT:-8080}:8080']);
    expect(gateway.environment).toMatchObject({ BALANCER_PORT: '5000', GATEWAY_PORT: '8080', APPTOKEN_HOST: 'app', APPTOKEN_PORT: '${PORT:-5000}', APPTOKEN_URL: 'http://apptoken', UPSTREAM_URL: 'http://upstream:3000' });
    // Every template's variables are given; the upstream group is the replicas, found through Docker's DNS.
    for (const file of readdirSync(TEMPLATES)) {
      for (const [, name] of templateText(file).matchAll(/\$\{([A-Z_]+)\}/g)) expect(`${file}: ${name}`).toBe(`${file}: ${name in gateway.environment ? name : 'missing'}`);
    }
    expect(templateText('apptoken-upstream.conf.template')).toMatch(/upstream apptoken \{[^}]*server \$\{APPTOKEN_HOST\}:\$\{APPTOKEN_PORT\} resolve/);
    expect(templateText('apptoken-api.conf.template')).toMatch(/proxy_pass \$\{APPTOKEN_URL\};/);
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
