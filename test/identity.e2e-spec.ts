import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { connect } from './support/database.js';

describe('identities', () => {
  let t: TestApp;
  let sql: pg.Client;
  let admin: string;
  let reader: string;
  let operator: string;

  beforeAll(async () => {
    t = await startApp();
    sql = await connect(t.db.url);
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    await t.http.post('/api/v1/identity', { name: 'reader1', password: 'reader1-password', role: 'Reader' }, { session: admin });
    await t.http.post('/api/v1/identity', { name: 'operator1', password: 'operator1-password', Role: ['Operator'] }, { session: admin });
    reader = await t.http.signin('reader1', 'reader1-password');
    operator = await t.http.signin('operator1', 'operator1-password');
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  it('creates a local identity with an argon2id hash (19 MiB, 2 passes, 1 lane) that never leaves the service', async () => {
    const created = await t.http.post('/api/v1/identity', { Name: 'Alice@Example.com', Password: 'alice-password-1', Roles: 'Operator, Reader' }, { session: admin });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(Number),
      name: 'Alice@Example.com',
      source: 'local',
      role: 'Operator, Reader',
      roles: ['Operator', 'Reader'],
      disabled: false,
      hasPassword: true,
      created: expect.any(String),
      updated: expect.any(String),
    });
    const { rows } = await sql.query('SELECT password_hash FROM identity WHERE id = $1', [created.body.id]);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const read = await t.http.get(`/api/v1/identity/${created.body.id}`, { session: admin });
    expect(read.text).not.toContain('argon2');
    expect(await t.http.signin('alice@example.com', 'alice-password-1')).toBeTruthy();
  });

  it('keeps names unique case-insensitively (409)', async () => {
    const clash = await t.http.post('/api/v1/identity', { name: 'ALICE@example.COM', password: 'another-password' }, { session: admin });
    expect(clash.status).toBe(409);
    expect(clash.body.message).toMatch(/already exists/);
  });

  it('compares passwords exactly as given and enforces 8 to 1,024 characters', async () => {
    const short = await t.http.post('/api/v1/identity', { name: 'shorty', password: '1234567' }, { session: admin });
    expect(short.status).toBe(400);
    expect(short.body.message).toMatch(/8 to 1024 characters/);
    const long = await t.http.post('/api/v1/identity', { name: 'longy', password: 'x'.repeat(1025) }, { session: admin });
    expect(long.status).toBe(400);
    const spaced = await t.http.post('/api/v1/identity', { name: 'spaced', password: ' pass word ' }, { session: admin });
    expect(spaced.status).toBe(201);
    expect((await t.http.post('/api/v1/signin', { username: 'spaced', password: 'pass word' })).status).toBe(401);
    expect((await t.http.post('/api/v1/signin', { username: 'spaced', password: ' pass word ' })).status).toBe(200);
    expect((await t.http.post('/api/v1/identity', { name: 'max', password: 'x'.repeat(1024) }, { session: admin })).status).toBe(201);
  });

  it('creates service identities without a password and refuses one with a password', async () => {
    const service = await t.http.post('/api/v1/identity', { name: 'payroll-bot', source: 'service', roles: ['Reader'] }, { session: admin });
    expect(service.status).toBe(201);
    expect(service.body).toMatchObject({ source: 'service', hasPassword: false });
    const bad = await t.http.post('/api/v1/identity', { name: 'bot2', source: 'service', password: 'has-a-password' }, { session: admin });
    expect(bad.status).toBe(400);
    const noPassword = await t.http.post('/api/v1/identity', { name: 'local-without' }, { session: admin });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.message).toMatch(/password is required/);
    const migrated = await t.http.post('/api/v1/identity', { name: 'm', source: 'migrated' }, { session: admin });
    expect(migrated.status).toBe(400);
  });

  it('refuses unknown roles and unknown properties with 400', async () => {
    const unknownRole = await t.http.post('/api/v1/identity', { name: 'x1', password: 'password-x1', roles: ['Wizard'] }, { session: admin });
    expect(unknownRole.status).toBe(400);
    expect(unknownRole.body.message).toBe('unknown role "Wizard"');
    const extra = await t.http.post('/api/v1/identity', { name: 'x2', password: 'password-x2', isAdmin: true }, { session: admin });
    expect(extra.status).toBe(400);
    expect(extra.body.message).toBe('property isAdmin should not exist');
  });

  it('lists identities in pages with X-Total-Count, and finds by name', async () => {
    const page1 = await t.http.get('/api/v1/identity?page=1&pageSize=2', { session: reader });
    expect(page1.status).toBe(200);
    expect(Array.isArray(page1.body)).toBe(true);
    expect(page1.body).toHaveLength(2);
    const total = Number(page1.headers.get('x-total-count'));
    expect(total).toBeGreaterThanOrEqual(5);
    const page2 = await t.http.get('/api/v1/identity?page=2&pageSize=2', { session: reader });
    expect(page2.body[0].id).toBeGreaterThan(page1.body[1].id);
    const found = await t.http.get('/api/v1/identity?search=ALICE', { session: admin });
    expect(found.body.map((i: any) => i.name)).toEqual(['Alice@Example.com']);
    expect((await t.http.get('/api/v1/identity?pageSize=501', { session: admin })).status).toBe(400);
    expect((await t.http.get('/api/v1/identity?search=%25', { session: admin })).body).toEqual([]);
  });

  it('shows an identity in the list exactly as on its own, and counts all pages even past the last one', async () => {
    const [listed] = (await t.http.get('/api/v1/identity?search=ALICE', { session: admin })).body;
    expect(listed).toEqual((await t.http.get(`/api/v1/identity/${listed.id}`, { session: admin })).body);
    expect(Object.keys(listed).sort()).toEqual(['created', 'disabled', 'hasPassword', 'id', 'name', 'role', 'roles', 'source', 'updated']);
    const total = (await t.http.get('/api/v1/identity?pageSize=1', { session: admin })).headers.get('x-total-count');
    const past = await t.http.get('/api/v1/identity?page=1000&pageSize=500', { session: admin });
    expect(past.body).toEqual([]);
    expect(past.headers.get('x-total-count')).toBe(total);
    const pastSearch = await t.http.get('/api/v1/identity?search=alice&page=3', { session: admin });
    expect(pastSearch.body).toEqual([]);
    expect(pastSearch.headers.get('x-total-count')).toBe('1');
  });

  it('answers 404 for an identity that does not exist and 400 for a malformed id', async () => {
    expect((await t.http.get('/api/v1/identity/999999', { session: admin })).status).toBe(404);
    expect((await t.http.get('/api/v1/identity/abc', { session: admin })).status).toBe(400);
    expect((await t.http.get('/api/v1/identity/99999999999', { session: admin })).status).toBe(400);
  });

  it('updates name, roles, password and the disabled flag', async () => {
    const created = await t.http.post('/api/v1/identity', { name: 'bob', password: 'bob-password-1', roles: ['Reader'] }, { session: admin });
    const id = created.body.id;
    const bobSession = await t.http.signin('bob', 'bob-password-1');
    const renamed = await t.http.put(`/api/v1/identity/${id}`, { name: 'robert', role: 'Operator' }, { session: admin });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'robert', roles: ['Operator'] });
    // Role changes apply on the next request of an existing session.
    expect((await t.http.get('/api/v1/identity/my', { session: bobSession })).body.roles).toEqual(['Operator']);
    const repassed = await t.http.patch(`/api/v1/identity/${id}`, { password: 'bob-password-2' }, { session: admin });
    expect(repassed.status).toBe(200);
    // A new password ends the identity's sessions.
    expect((await t.http.get('/api/v1/identity/my', { session: bobSession })).status).toBe(401);
    expect((await t.http.post('/api/v1/signin', { username: 'robert', password: 'bob-password-1' })).status).toBe(401);
    await t.http.signin('robert', 'bob-password-2');
    const both = await t.http.patch(`/api/v1/identity/${id}`, { roles: ['Reader'], role: 'Reader' }, { session: admin });
    expect(both.status).toBe(400);
    const audit = await t.http.get(`/api/v1/audit?identity=${id}&action=identity.updated`, { session: admin });
    expect(audit.body.map((e: any) => e.detail.changed)).toEqual([['password'], ['name', 'roles']]);
    expect(audit.text).not.toContain('bob-password');
  });

  it('lets Reader and Operator read identities but not write them (403)', async () => {
    for (const session of [reader, operator]) {
      expect((await t.http.get('/api/v1/identity', { session })).status).toBe(200);
      expect((await t.http.get('/api/v1/identity/1', { session })).status).toBe(200);
      const create = await t.http.post('/api/v1/identity', { name: 'sneaky', password: 'sneaky-password' }, { session });
      expect(create.status).toBe(403);
      expect(create.body).toEqual({ statusCode: 403, error: 'Forbidden', code: 'ROLE_REQUIRED', message: 'Requires role Administrator' });
      expect((await t.http.put('/api/v1/identity/1', { disabled: true }, { session })).status).toBe(403);
      expect((await t.http.patch('/api/v1/identity/1', { roles: [] }, { session })).status).toBe(403);
      expect((await t.http.delete('/api/v1/identity/1', { session })).status).toBe(403);
      expect((await t.http.get('/api/v1/audit', { session })).status).toBe(403);
    }
  });

  it('refuses to delete, disable or demote the last enabled Administrator (409)', async () => {
    const me = (await t.http.get('/api/v1/identity/my', { session: admin })).body;
    const del = await t.http.delete(`/api/v1/identity/${me.id}`, { session: admin });
    expect(del.status).toBe(409);
    expect(del.body.message).toMatch(/last enabled Administrator/);
    expect((await t.http.patch(`/api/v1/identity/${me.id}`, { disabled: true }, { session: admin })).status).toBe(409);
    expect((await t.http.patch(`/api/v1/identity/${me.id}`, { roles: ['Reader'] }, { session: admin })).status).toBe(409);
    // Nothing was changed by the refused requests.
    expect((await t.http.get('/api/v1/identity/my', { session: admin })).body.roles).toEqual(['Administrator', 'Operator', 'Reader']);

    // With a second Administrator, the first may go; then the second is the last.
    const second = await t.http.post('/api/v1/identity', { name: 'admin2', password: 'admin2-password', roles: ['Administrator'] }, { session: admin });
    const admin2 = await t.http.signin('admin2', 'admin2-password');
    // A disabled Administrator does not count.
    await t.http.patch(`/api/v1/identity/${second.body.id}`, { disabled: true }, { session: admin });
    expect((await t.http.delete(`/api/v1/identity/${me.id}`, { session: admin })).status).toBe(409);
    await t.http.patch(`/api/v1/identity/${second.body.id}`, { disabled: false }, { session: admin });
    expect((await t.http.get('/api/v1/identity/my', { session: admin2 })).status).toBe(401); // disabling ended its session
    const admin2Again = await t.http.signin('admin2', 'admin2-password');
    expect((await t.http.delete(`/api/v1/identity/${me.id}`, { session: admin2Again })).status).toBe(204);
    expect((await t.http.get(`/api/v1/identity/${me.id}`, { session: admin2Again })).status).toBe(404);
    expect((await t.http.delete(`/api/v1/identity/${second.body.id}`, { session: admin2Again })).status).toBe(409);
    admin = admin2Again;
  });

  it('shows the caller its identity and effective roles', async () => {
    const my = await t.http.get('/api/v1/identity/my', { session: operator });
    expect(my.body).toMatchObject({ name: 'operator1', roles: ['Operator'], role: 'Operator', authenticatedBy: 'session', tokenId: null });
    expect((await t.http.get('/api/v1/identity/my')).status).toBe(401);
  });

  it('audits identity changes with actor, target and address', async () => {
    const events = await t.http.get('/api/v1/audit?action=identity.&pageSize=500', { session: admin });
    const created = events.body.find((e: any) => e.action === 'identity.created' && e.targetIdentity.name === 'payroll-bot');
    expect(created).toMatchObject({ actor: { name: 'admin' }, address: '127.0.0.1', detail: { source: 'service', roles: ['Reader'] } });
    expect(events.body.some((e: any) => e.action === 'identity.deleted' && e.targetIdentity.name === 'admin')).toBe(true);
  });
});
