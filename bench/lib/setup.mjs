// Seeding what the benchmark measures: through the API where the app's own writes matter (admin, roles,
// identities, rules, a few tokens), by SQL in bulk where only the rows matter (100,000 tokens and more),
// with the JWTs minted by the built codec and the configured signing key.
import { createHash, createSecretKey, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import pg from 'pg';
import { encodeToken } from '../../dist/app-token/token-codec.js';
import { ADMIN_PASSWORD, SIGNING_KEY } from './processes.mjs';

export const BOT = 'bench-bot';
export const ROLE = 'Svc';
const ISSUER = 'IronmanSoftware';
const AUDIENCE = 'PowerShellUniversal';

/** One API call; throws on any status other than `expect` (2xx by default). */
export async function api(base, method, route, { token, cookie, body, expect } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (cookie) headers.cookie = cookie;
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const ok = expect === undefined ? response.status >= 200 && response.status < 300 : response.status === expect;
  if (!ok) throw new Error(`${method} ${route}: ${response.status} ${text.slice(0, 300)}`);
  return { status: response.status, headers: response.headers, body: text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
}

/** Runs `work(i)` for i in [0, count) with at most `concurrency` at once. */
export async function parallel(count, concurrency, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/**
 * Seeds a fresh server: the admin's session and an admin token, role Svc, identity bench-bot (Svc) and its
 * token, `rules` endpoint rules `/svc-N/:id/*` for Svc, and `identities` more identities with one token each.
 */
export async function seed(base, { rules = 0, identities = 0, databaseUrl } = {}) {
  const signin = await api(base, 'POST', '/api/v1/signin', { body: { username: 'admin', password: ADMIN_PASSWORD } });
  const cookie = signin.headers.get('set-cookie').split(';')[0];
  await api(base, 'POST', '/api/v1/role', { cookie, body: { name: ROLE } });
  // The admin holds Svc too: a token grants only roles it holds, and the grants measured are for bench-bot.
  const admin = (await api(base, 'GET', '/api/v1/identity/my', { cookie })).body;
  await api(base, 'PUT', `/api/v1/identity/${admin.id}`, { cookie, body: { roles: [...admin.roles, ROLE] } });
  const adminToken = (await api(base, 'GET', '/api/v1/apptoken/grant', { cookie })).body.token;
  const bot = (await api(base, 'POST', '/api/v1/identity', { cookie, body: { name: BOT, source: 'service', roles: [ROLE] } })).body;
  const botToken = (await api(base, 'GET', `/api/v1/apptoken/grant/${bot.id}`, { cookie })).body.token;
  if (rules > 0) {
    // The first rule through the API, the others copied from it by SQL (each API create checks overlaps with
    // every rule: 1,000 take a minute), then the app's own invalidation reloads the rules everywhere.
    await api(base, 'POST', '/api/v1/endpoint', { cookie, body: { url: '/svc-0/:id/*', method: ['GET'], role: ROLE } });
    if (rules > 1) {
      if (!databaseUrl) throw new Error('rules by SQL need the database URL');
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(
          `WITH first AS (SELECT id, methods FROM endpoint_rule WHERE url = '/svc-0/:id/*'),
                copies AS (
                  INSERT INTO endpoint_rule (url, methods, authentication)
                  SELECT '/svc-' || g || '/:id/*', first.methods, true FROM first, generate_series(1, $1::int - 1) AS g
                  RETURNING id)
           INSERT INTO endpoint_rule_role (endpoint_rule_id, role_id)
           SELECT copies.id, err.role_id FROM copies, endpoint_rule_role err JOIN first ON first.id = err.endpoint_rule_id`,
          [rules],
        );
        await client.query("SELECT pg_notify('apptoken_invalidation', 'e')");
      } finally {
        await client.end();
      }
    }
  }
  await parallel(identities, 4, async (i) => {
    const identity = (await api(base, 'POST', '/api/v1/identity', { cookie, body: { name: `bench-user-${i}`, source: 'service', roles: [ROLE] } })).body;
    await api(base, 'GET', `/api/v1/apptoken/grant/${identity.id}`, { cookie });
  });
  return { cookie, adminToken, bot, botToken };
}

/** Role ids by name, from the database. */
export async function roleIds(client, names) {
  const { rows } = await client.query('SELECT id, name FROM role WHERE name = ANY($1)', [names]);
  return names.map((name) => {
    const row = rows.find((r) => r.name === name);
    if (!row) throw new Error(`no role ${name}`);
    return row.id;
  });
}

/** A token for `identity` (holding `roles`) as the app mints it, with its row's values. */
function mint(key, identityName, roles, nowSeconds) {
  const hash = randomUUID();
  const exp = nowSeconds + 365 * 86400;
  const value = encodeToken({ name: identityName, hash, roles, nbf: nowSeconds - 60, exp, iss: ISSUER, aud: AUDIENCE }, key);
  return { hash, value, sha256: createHash('sha256').update(value).digest('hex'), exp };
}

/**
 * Inserts `count` valid tokens of bench-bot (role Svc) by SQL in batches (unnest of arrays), with their
 * app_token_role rows: `hash` the JWT's hash claim, `token_sha256` the SHA-256 of the whole token, no stored
 * value (enhanced security). Keeps the values of the first `keep` (returned) and drops the rest.
 */
export async function insertTokens(url, count, { keep = count, batch = 50000, onProgress } = {}) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const [{ id: botId }] = (await client.query('SELECT id FROM identity WHERE name = $1', [BOT])).rows;
    const [roleId] = await roleIds(client, [ROLE]);
    const key = createSecretKey(Buffer.from(SIGNING_KEY, 'utf8'));
    const now = Math.floor(Date.now() / 1000);
    const kept = [];
    for (let done = 0; done < count; done += batch) {
      const size = Math.min(batch, count - done);
      const tokens = Array.from({ length: size }, () => mint(key, BOT, [ROLE], now));
      for (const token of tokens) if (kept.length < keep) kept.push(token.value);
      await client.query(
        `WITH inserted AS (
           INSERT INTO app_token (hash, token_sha256, token, identity_id, created_at, expires_at, jwt_expires_at, description, origin, created_by_name)
           SELECT hash, decode(sha, 'hex'), NULL, $3, to_timestamp($4), to_timestamp(exp), to_timestamp(exp), 'bench bulk', 'granted', 'bench'
             FROM unnest($1::uuid[], $2::text[], $5::bigint[]) AS t(hash, sha, exp)
           RETURNING id)
         INSERT INTO app_token_role (app_token_id, role_id) SELECT id, $6 FROM inserted`,
        [tokens.map((t) => t.hash), tokens.map((t) => t.sha256), botId, now - 60, tokens.map((t) => t.exp), roleId],
      );
      onProgress?.(done + size);
    }
    return kept;
  } finally {
    await client.end();
  }
}

export async function writeTokenFile(file, tokens) {
  await writeFile(file, `${tokens.join('\n')}\n`);
}

/** Empties every instance's caches on a database, through the app's own invalidation channel ('*': all). */
export async function invalidateAll(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_notify('apptoken_invalidation', '*')");
  } finally {
    await client.end();
  }
}

/** The token cache's hit and miss counters from the server's Prometheus metrics (GET /metrics, Administrator). */
export async function cacheCounters(base, adminToken) {
  const text = (await api(base, 'GET', '/metrics', { token: adminToken })).body;
  const read = (name) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`/metrics has no ${name}`);
    return Number(match[1]);
  };
  return { hits: read('apptoken_token_cache_hits_total'), misses: read('apptoken_token_cache_misses_total') };
}
