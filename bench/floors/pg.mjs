// Floors with PostgreSQL: bare node:http + a pg Pool of the app's default size (10), running by hand the SQL a
// page needs and writing the JSON the app answers, or the rows a grant writes.
//   GET  /apptoken?page=1&pageSize=20  tokens (LIST_DATABASE_URL) newest first, with their roles and their
//                                      identity's (id, name, source, role), X-Total-Count: as GET /api/v1/apptoken
//   GET  /identity?page=1&pageSize=20  identities by id with their role names, X-Total-Count: as GET /api/v1/identity
//   POST /grant                         one transaction (GRANT_DATABASE_URL): an app_token row, its app_token_role
//                                      rows and an audit_event row, as a grant writes them (the JWT is not minted)
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { sortRoleNames } from '../../dist/role/sort-role-names.js';

const POOL_SIZE = Number(process.env.POOL_SIZE ?? 10);
const lists = new pg.Pool({ connectionString: process.env.LIST_DATABASE_URL, max: POOL_SIZE });
const grants = new pg.Pool({ connectionString: process.env.GRANT_DATABASE_URL ?? process.env.LIST_DATABASE_URL, max: POOL_SIZE });
const GRANT_IDENTITY = Number(process.env.GRANT_IDENTITY_ID);
const GRANT_ROLE_IDS = (process.env.GRANT_ROLE_IDS ?? '').split(',').filter(Boolean).map(Number);
const GRANT_ROLE_NAMES = (process.env.GRANT_ROLE_NAMES ?? '').split(',').filter(Boolean);

const TOKEN_PAGE = `
  SELECT t.id, t.created_at, t.expires_at, t.revoked_at, t.description, t.last_used_at, t.last_used_address,
         i.id AS identity_id, i.name AS identity_name, i.source AS identity_source,
         array(SELECT r.name FROM app_token_role tr JOIN role r ON r.id = tr.role_id WHERE tr.app_token_id = t.id) AS roles,
         array(SELECT r.name FROM identity_role ir JOIN role r ON r.id = ir.role_id WHERE ir.identity_id = i.id) AS identity_roles
    FROM app_token t JOIN identity i ON i.id = t.identity_id
   ORDER BY t.created_at DESC NULLS FIRST, t.id DESC
   LIMIT $1 OFFSET $2`;
const TOKEN_COUNT = 'SELECT count(*)::int AS total FROM app_token t JOIN identity i ON i.id = t.identity_id';
const IDENTITY_PAGE = `
  SELECT i.id, i.name, i.source, i.disabled, i.password_hash IS NOT NULL AS has_password, i.created_at, i.updated_at,
         array(SELECT r.name FROM identity_role ir JOIN role r ON r.id = ir.role_id WHERE ir.identity_id = i.id) AS roles
    FROM identity i ORDER BY i.id ASC LIMIT $1 OFFSET $2`;
const IDENTITY_COUNT = 'SELECT count(*)::int AS total FROM identity';

function page(url) {
  const take = Number(url.searchParams.get('pageSize') ?? 50);
  return [take, (Number(url.searchParams.get('page') ?? 1) - 1) * take];
}

async function tokenPage(url) {
  const [rows, count] = await Promise.all([lists.query(TOKEN_PAGE, page(url)), lists.query(TOKEN_COUNT)]);
  const now = Date.now();
  const body = rows.rows.map((t) => {
    const roles = sortRoleNames(t.roles);
    return {
      id: t.id,
      token: null,
      identity: { id: t.identity_id, name: t.identity_name, source: t.identity_source, role: sortRoleNames(t.identity_roles).join(', ') },
      revoked: t.revoked_at !== null && t.revoked_at.getTime() <= now,
      role: roles.join(', '),
      roles,
      created: t.created_at.toISOString(),
      expiration: t.expires_at?.toISOString() ?? null,
      revokedDate: t.revoked_at?.toISOString() ?? null,
      description: t.description,
      lastUsed: t.last_used_at?.toISOString() ?? null,
      lastUsedAddress: t.last_used_address,
    };
  });
  return { body, total: count.rows[0].total };
}

async function identityPage(url) {
  const [rows, count] = await Promise.all([lists.query(IDENTITY_PAGE, page(url)), lists.query(IDENTITY_COUNT)]);
  const body = rows.rows.map((i) => {
    const roles = sortRoleNames(i.roles);
    return {
      id: i.id,
      name: i.name,
      source: i.source,
      role: roles.join(', '),
      roles,
      disabled: i.disabled,
      hasPassword: i.has_password,
      created: i.created_at.toISOString(),
      updated: i.updated_at.toISOString(),
    };
  });
  return { body, total: count.rows[0].total };
}

async function grant() {
  const client = await grants.connect();
  try {
    await client.query('BEGIN');
    const now = new Date();
    const expires = new Date(now.getTime() + 365 * 86400_000);
    const hash = randomUUID();
    const {
      rows: [{ id }],
    } = await client.query(
      `INSERT INTO app_token (hash, token_sha256, token, identity_id, created_at, expires_at, jwt_expires_at, description, origin, created_by_identity_id, created_by_name)
       VALUES ($1, $2, NULL, $3, $4, $5, $5, '', 'granted', $3, 'bench') RETURNING id`,
      [hash, createHash('sha256').update(randomBytes(32)).digest(), GRANT_IDENTITY, now, expires],
    );
    await client.query('INSERT INTO app_token_role (app_token_id, role_id) SELECT $1, unnest($2::int[])', [id, GRANT_ROLE_IDS]);
    await client.query(
      `INSERT INTO audit_event (action, actor_identity_id, actor_name, target_identity_id, target_identity_name, target_token_id, address, detail)
       VALUES ('apptoken.granted', $1, 'bench', $1, 'bench', $2, '127.0.0.1', $3)`,
      [GRANT_IDENTITY, id, JSON.stringify({ roles: GRANT_ROLE_NAMES, expiration: expires.toISOString() })],
    );
    await client.query('COMMIT');
    return { id, hash };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function send(response, status, value, headers = {}) {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers }).end(body);
}

http
  .createServer(async (request, response) => {
    try {
      const url = new URL(request.url, 'http://floor');
      if (request.method === 'GET' && url.pathname === '/apptoken') {
        const { body, total } = await tokenPage(url);
        return send(response, 200, body, { 'x-total-count': String(total) });
      }
      if (request.method === 'GET' && url.pathname === '/identity') {
        const { body, total } = await identityPage(url);
        return send(response, 200, body, { 'x-total-count': String(total) });
      }
      if (request.method === 'POST' && url.pathname === '/grant') {
        request.resume();
        return send(response, 201, await grant());
      }
      send(response, 404, { error: 'not found' });
    } catch (error) {
      send(response, 500, { error: String(error) });
    }
  })
  .listen(0, '127.0.0.1', function () {
    process.stdout.write(`port ${this.address().port}\n`);
  });
