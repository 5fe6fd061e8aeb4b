import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { LastUsedTracker } from '../src/app-token/last-used.tracker.js';
import { CLAIM } from '../src/app-token/token-codec.js';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { connect, databaseMode } from './support/database.js';
import { decodePayload } from './support/tokens.js';

/**
 * Issue 11's token lifecycle: lastUsedAddress, the list's lifecycle filters, and bulk revoke / delete (one
 * transaction, one audit event, webhook events per token, revocation on every instance, descendants too).
 */
describe('token lifecycle: lifecycle filters and bulk revoke / delete', () => {
  let t: TestApp;
  /** A second instance on the same database (server mode): revocation must reach its cache too. */
  let b: TestApp | undefined;
  let sql: pg.Client;
  let admin: string;
  let operator: string;
  let adam: { id: number; name: string };
  let reader: string;

  beforeAll(async () => {
    t = await startApp();
    if (databaseMode() === 'server') b = await startApp({ db: t.db });
    else process.stdout.write('NOTE: embedded PGlite is one process: revocation is checked on the one instance only\n');
    sql = await connect(t.db.url);
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    adam = (await t.http.post('/api/v1/identity', { name: 'adam', password: 'adam-password', roles: ['Operator', 'Reader'] }, { session: admin })).body;
    await t.http.post('/api/v1/identity', { name: 'reader1', password: 'reader1-password', roles: ['Reader'] }, { session: admin });
    operator = await t.http.signin('adam', 'adam-password');
    reader = await t.http.signin('reader1', 'reader1-password');
    await t.http.post('/api/v1/role', { name: 'Payroll' }, { session: admin });
    // A subscriber to token events, so that the outbox keeps what the changes emit (no dispatcher needed to see it).
    await sql.query(`INSERT INTO webhook (url, events, secret) VALUES ('https://receiver.example/hook', '{apptoken.revoked,apptoken.deleted}', 'whsec_dGVzdA==')`);
  });
  afterAll(async () => {
    await sql?.end();
    await b?.stop();
    await t?.close();
  });

  const serviceIdentity = async (name: string, roles: string[]) =>
    (await t.http.post('/api/v1/identity', { name, source: 'service', roles }, { session: admin })).body as { id: number; name: string };
  const grantTo = async (identityId: number, body: object = {}) => {
    const response = await t.http.post('/api/v1/apptoken/grant', { identity: { id: identityId }, ...body }, { session: admin });
    expect(response.status).toBe(201);
    return response.body as { id: number; token: string };
  };
  /** Sets a token's dates, in days from now (null: none). */
  const setDays = (id: number, days: { created?: number; expires?: number | null; lastUsed?: number | null }) =>
    sql.query(
      `UPDATE app_token SET created_at = CASE WHEN $2::float8 IS NULL THEN created_at ELSE now() + $2::float8 * interval '1 day' END,
                            expires_at = CASE WHEN $3 THEN expires_at WHEN $4::float8 IS NULL THEN NULL ELSE now() + $4::float8 * interval '1 day' END,
                            last_used_at = CASE WHEN $5 THEN last_used_at WHEN $6::float8 IS NULL THEN NULL ELSE now() + $6::float8 * interval '1 day' END
        WHERE id = $1`,
      [id, days.created ?? null, days.expires === undefined, days.expires ?? null, days.lastUsed === undefined, days.lastUsed ?? null],
    );
  const status = async (app: TestApp, token: string) => (await app.http.get('/api/v1/identity/my', { token })).status;
  const refusedAsRevoked = async (app: TestApp, token: string) => {
    const response = await app.http.get('/api/v1/identity/my', { token });
    return `${response.status} ${response.body.message}`;
  };
  /** Puts a token in an instance's cache (after its grant's own NOTIFY has passed), so a revocation must evict it. */
  const warm = async (token: string) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const app of [t, b]) if (app) expect(await status(app, token)).toBe(200);
  };
  const listIds = async (query: string, session = admin) => {
    const response = await t.http.get(`/api/v1/apptoken?${query}`, { session });
    expect(`${query} ${response.status}`).toBe(`${query} 200`);
    return { ids: (response.body as Array<{ id: number }>).map((token) => token.id), total: Number(response.headers.get('x-total-count')) };
  };
  const deliveries = async (ids: number[]) =>
    (
      await sql.query(`SELECT event_type, payload FROM webhook_delivery WHERE (payload::jsonb #>> '{data,token,id}')::int = ANY ($1::int[]) ORDER BY id`, [ids])
    ).rows.map((row) => ({ type: row.event_type as string, body: JSON.parse(row.payload), text: row.payload as string }));

  describe('lastUsed and lastUsedAddress', () => {
    it('shows when and from where a token was last used, in get, list and grant answers', async () => {
      const granted = (await t.http.get('/api/v1/apptoken/grant', { session: operator })).body;
      expect(granted).toMatchObject({ lastUsed: null, lastUsedAddress: null });
      expect(await status(t, granted.token)).toBe(200);
      // The tracker writes uses once a minute; the test flushes it as the timer (or shutdown) would.
      expect(await t.app.get(LastUsedTracker).flush()).toBeGreaterThanOrEqual(1);
      const read = (await t.http.get(`/api/v1/apptoken/${granted.id}`, { session: operator })).body;
      expect(read.lastUsedAddress).toBe('127.0.0.1');
      expect(Date.now() - Date.parse(read.lastUsed)).toBeLessThan(60_000);
      const listed = (await t.http.get('/api/v1/apptoken?pageSize=500', { session: operator })).body.find((token: any) => token.id === granted.id);
      expect(listed).toMatchObject({ lastUsed: read.lastUsed, lastUsedAddress: '127.0.0.1' });
      const revoked = (await t.http.post(`/api/v1/apptoken/${granted.id}/revoke`, undefined, { session: operator })).body;
      expect(revoked).toMatchObject({ lastUsed: read.lastUsed, lastUsedAddress: '127.0.0.1' });
    });
  });

  describe('list filters', () => {
    // One identity's tokens with set dates (days from now), roles and descriptions.
    let ids: Record<'soon' | 'later' | 'never' | 'expired' | 'revokedSoon', number>;
    let adamSoon: number;
    beforeAll(async () => {
      const bot = await serviceIdentity('life-bot', ['Reader', 'Payroll']);
      ids = {
        soon: (await grantTo(bot.id, { roles: ['Reader'], description: 'nightly export' })).id,
        later: (await grantTo(bot.id, { roles: ['Reader', 'Payroll'], description: 'nightly payroll' })).id,
        never: (await grantTo(bot.id, { roles: ['Reader'], expiration: 'never' })).id,
        expired: (await grantTo(bot.id, { roles: ['Payroll'] })).id,
        revokedSoon: (await grantTo(bot.id, { roles: ['Payroll'] })).id,
      };
      await setDays(ids.soon, { created: -10, expires: 5, lastUsed: null });
      await setDays(ids.later, { created: -200, expires: 40, lastUsed: -1 });
      await setDays(ids.never, { created: -200, lastUsed: null });
      await setDays(ids.expired, { created: -400, expires: -1, lastUsed: -100 });
      await setDays(ids.revokedSoon, { created: -1, expires: 2 });
      expect((await t.http.post(`/api/v1/apptoken/${ids.revokedSoon}/revoke`, undefined, { session: admin })).status).toBe(200);
      adamSoon = (await t.http.get('/api/v1/apptoken/grant?lifespanDays=3', { session: operator })).body.id;
    });
    const bot = (query: string) => listIds(`identity=life-bot&${query}`);
    const sorted = (...values: number[]) => [...values].sort((x, y) => x - y);
    const byId = async (query: string) => sorted(...(await bot(query)).ids);

    it('expiresWithinDays: tokens expiring within N days that have not expired; never-expiring ones never match', async () => {
      expect(await byId('expiresWithinDays=7')).toEqual(sorted(ids.soon, ids.revokedSoon));
      expect(await byId('expiresWithinDays=60')).toEqual(sorted(ids.soon, ids.later, ids.revokedSoon));
      expect(await byId('expiresWithinDays=36500')).toEqual(sorted(ids.soon, ids.later, ids.revokedSoon));
      expect(await byId('expiresWithinDays=1')).toEqual([]);
      expect(await byId('expiresWithinDays=7&revoked=false')).toEqual([ids.soon]);
    });

    it('unusedForDays: last used more than N days ago, a token never used counting from its creation', async () => {
      expect(await byId('unusedForDays=30')).toEqual(sorted(ids.never, ids.expired));
      expect(await byId('unusedForDays=5')).toEqual(sorted(ids.soon, ids.never, ids.expired));
      expect(await byId('unusedForDays=365')).toEqual([]);
    });

    it('role: tokens holding that role (any letter case); an unknown role finds nothing', async () => {
      expect(await byId('role=Payroll')).toEqual(sorted(ids.later, ids.expired, ids.revokedSoon));
      expect(await byId('role=payroll')).toEqual(sorted(ids.later, ids.expired, ids.revokedSoon));
      expect(await byId('role=Reader')).toEqual(sorted(ids.soon, ids.later, ids.never));
      expect(await bot('role=NoSuchRole')).toEqual({ ids: [], total: 0 });
    });

    it('revoked, expired and identity filter as documented', async () => {
      expect(await byId('revoked=true')).toEqual([ids.revokedSoon]);
      // As PowerShell writes them ("$true" is "True").
      expect(await byId('revoked=True')).toEqual([ids.revokedSoon]);
      expect(await byId('revoked=FALSE&expired=False')).toEqual(sorted(ids.soon, ids.later, ids.never));
      expect(await byId('expired=true')).toEqual([ids.expired]);
      expect(await byId('revoked=false&expired=false')).toEqual(sorted(ids.soon, ids.later, ids.never));
      const botId = (await t.http.get('/api/v1/apptoken/' + ids.soon, { session: admin })).body.identity.id;
      expect(await listIds(`identity=${botId}&pageSize=500`)).toEqual(await listIds('identity=LIFE-BOT&pageSize=500'));
    });

    it('combines with each other, search, sorting, paging and X-Total-Count', async () => {
      expect(await byId('role=Payroll&unusedForDays=30')).toEqual([ids.expired]);
      expect(await byId('expiresWithinDays=60&role=Payroll')).toEqual(sorted(ids.later, ids.revokedSoon));
      expect(await byId('expiresWithinDays=60&search=nightly')).toEqual(sorted(ids.soon, ids.later));
      expect(await bot('expiresWithinDays=60&sort=expiration&order=asc')).toEqual({ ids: [ids.revokedSoon, ids.soon, ids.later], total: 3 });
      expect(await bot('expiresWithinDays=60&sort=expiration&order=asc&page=2&pageSize=1')).toEqual({ ids: [ids.soon], total: 3 });
      expect(await bot('expiresWithinDays=60&page=9&pageSize=1')).toEqual({ ids: [], total: 3 });
    });

    it("shows anyone but an Administrator only their own tokens, whatever the filters say", async () => {
      expect(await listIds('identity=life-bot', operator)).toEqual({ ids: [], total: 0 });
      expect(await listIds('identity=admin&expiresWithinDays=7', operator)).toEqual({ ids: [], total: 0 });
      expect(await listIds('expiresWithinDays=7', operator)).toEqual({ ids: [adamSoon], total: 1 });
      expect(await listIds('identity=adam&expiresWithinDays=7', operator)).toEqual({ ids: [adamSoon], total: 1 });
      expect(await listIds('role=Payroll', operator)).toEqual({ ids: [], total: 0 });
      // An Administrator sees them all.
      expect((await listIds('expiresWithinDays=7&pageSize=500')).ids).toEqual(expect.arrayContaining([adamSoon, ids.soon]));
    });

    it('refuses bad filter values with 400 and a message that names the parameter', async () => {
      const cases: Array<[string, RegExp]> = [
        ['expiresWithinDays=0', /expiresWithinDays must be at least 1/],
        ['expiresWithinDays=-3', /expiresWithinDays must be at least 1/],
        ['expiresWithinDays=1.5', /expiresWithinDays must be a whole number of days/],
        ['expiresWithinDays=soon', /expiresWithinDays must be a whole number of days/],
        ['expiresWithinDays=', /expiresWithinDays must be/],
        ['expiresWithinDays=36501', /expiresWithinDays must be at most 36500/],
        ['unusedForDays=0', /unusedForDays must be at least 1/],
        ['unusedForDays=99999999999', /unusedForDays must be at most 36500/],
        ['unusedForDays=7&unusedForDays=8', /unusedForDays must be a whole number of days/],
        ['role=Reader&role=Operator', /role must be one role name/],
        [`role=${'r'.repeat(65)}`, /role must be shorter than or equal to 64 characters/],
        ['revoked=maybe', /revoked must be true or false/],
      ];
      for (const [query, message] of cases) {
        const response = await t.http.get(`/api/v1/apptoken?${query}`, { session: admin });
        expect(`${query} ${response.status} ${response.body.code}`).toBe(`${query} 400 VALIDATION_FAILED`);
        expect(response.body.message).toMatch(message);
      }
    });
  });

  describe('bulk-revoke', () => {
    it('revokes the matching tokens and those granted with them, on every instance at once, with one audit event and a webhook event each', async () => {
      const bot = await serviceIdentity('sprawl-bot', ['Reader', 'Operator']);
      const old1 = await grantTo(bot.id);
      const old2 = await grantTo(bot.id);
      const fresh = await grantTo(bot.id);
      // A child granted with old1, and a grandchild granted with the child: they end with old1.
      const child = (await t.http.get('/api/v1/apptoken/grant', { token: old1.token })).body;
      const grandchild = (await t.http.get('/api/v1/apptoken/grant', { token: child.token })).body;
      expect(grandchild.id).toBeGreaterThan(child.id);
      await setDays(old1.id, { created: -100 });
      await setDays(old2.id, { created: -100 });
      for (const token of [old1, old2, child, grandchild, fresh]) await warm(token.token);
      const auditBefore = (await sql.query('SELECT count(*)::int AS n FROM audit_event')).rows[0].n;

      const response = await t.http.post('/api/v1/apptoken/bulk-revoke', { identity: 'sprawl-bot', unusedForDays: 30 }, { session: admin });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ count: 2, ids: [old1.id, old2.id], descendantIds: [child.id, grandchild.id], skippedIds: [], dryRun: false });
      // Refused right after the answer, on this instance and the other one, children included.
      for (const app of [t, b]) {
        if (!app) continue;
        for (const token of [old1, old2, child, grandchild]) expect(await refusedAsRevoked(app, token.token)).toBe('401 Invalid app token: revoked');
        expect(await status(app, fresh.token)).toBe(200);
      }
      const read = (await t.http.get(`/api/v1/apptoken/${old1.id}`, { session: admin })).body;
      expect(read).toMatchObject({ revoked: true, revokedDate: expect.any(String) });

      // One audit event for the whole change, with the filter, the count and the ids.
      const audit = (await t.http.get('/api/v1/audit?action=apptoken.bulk_revoked', { session: admin })).body;
      expect(audit).toEqual([
        expect.objectContaining({
          action: 'apptoken.bulk_revoked',
          actor: { id: 1, name: 'admin' },
          targetIdentity: { id: bot.id, name: 'sprawl-bot' },
          address: '127.0.0.1',
          detail: { filter: { identity: 'sprawl-bot', unusedForDays: 30 }, count: 2, ids: [old1.id, old2.id], descendantIds: [child.id, grandchild.id] },
        }),
      ]);
      expect((await sql.query('SELECT count(*)::int AS n FROM audit_event')).rows[0].n).toBe(auditBefore + 1);

      // A webhook event per token, marked as bulk, naming no token value.
      const events = await deliveries([old1.id, old2.id, child.id, grandchild.id, fresh.id]);
      expect(events.map((event) => [event.type, event.body.data.token.id])).toEqual([
        ['apptoken.revoked', old1.id],
        ['apptoken.revoked', old2.id],
        ['apptoken.revoked', child.id],
        ['apptoken.revoked', grandchild.id],
      ]);
      expect(events[0].body.data).toMatchObject({
        reason: 'revoked',
        bulk: true,
        filter: { identity: 'sprawl-bot', unusedForDays: 30 },
        by: { name: 'admin' },
        token: { id: old1.id, identity: { id: bot.id, name: 'sprawl-bot' }, roles: ['Operator', 'Reader'], revokedDate: read.revokedDate },
      });
      expect(events[2].body.data).toMatchObject({ reason: 'parent_revoked', bulk: true, parentTokenId: old1.id, by: { name: 'admin' } });
      for (const event of events) expect(event.text).not.toMatch(/eyJ|[0-9a-f]{8}-[0-9a-f]{4}-/);

      // Again: nothing left to revoke, nothing recorded; the first revocation date stays.
      const again = await t.http.post('/api/v1/apptoken/bulk-revoke', { identity: 'sprawl-bot', unusedForDays: 30 }, { session: admin });
      expect(again.body).toEqual({ count: 0, ids: [], descendantIds: [], skippedIds: [], dryRun: false });
      expect((await t.http.get(`/api/v1/apptoken/${old1.id}`, { session: admin })).body.revokedDate).toBe(read.revokedDate);
      expect((await t.http.get('/api/v1/audit?action=apptoken.bulk_revoked', { session: admin })).body).toHaveLength(1);
    });

    it('dryRun counts and lists, and writes nothing: no revocation, no audit event, no webhook event', async () => {
      const bot = await serviceIdentity('dry-bot', ['Reader']);
      const tokens = [await grantTo(bot.id), await grantTo(bot.id)];
      const child = (await t.http.get('/api/v1/apptoken/grant', { token: tokens[0].token })).body;
      const auditBefore = (await sql.query('SELECT count(*)::int AS n FROM audit_event')).rows[0].n;
      for (const route of ['bulk-revoke', 'bulk-delete']) {
        const response = await t.http.post(`/api/v1/apptoken/${route}`, { identity: bot.id, role: 'reader', dryRun: true }, { session: admin });
        expect(response.status).toBe(200);
        // The child is matched by the filter too (same identity and role); a descendant is listed once, as matched.
        expect(response.body).toEqual({ count: 3, ids: [tokens[0].id, tokens[1].id, child.id], descendantIds: [], skippedIds: [], dryRun: true });
      }
      const byIds = await t.http.post('/api/v1/apptoken/bulk-revoke', { ids: [tokens[0].id], dryRun: true }, { session: admin });
      expect(byIds.body).toEqual({ count: 1, ids: [tokens[0].id], descendantIds: [child.id], skippedIds: [], dryRun: true });
      for (const token of [...tokens, child]) expect(await status(t, token.token)).toBe(200);
      expect((await sql.query('SELECT count(*)::int AS n FROM app_token WHERE identity_id = $1 AND revoked_at IS NULL', [bot.id])).rows[0].n).toBe(3);
      expect((await sql.query('SELECT count(*)::int AS n FROM audit_event')).rows[0].n).toBe(auditBefore);
      expect(await deliveries([...tokens.map((token) => token.id), child.id])).toEqual([]);
    });

    it('lets anyone but an Administrator touch only their own tokens: others\' ids are not matched, another identity is a 403', async () => {
      const adminToken = (await t.http.get('/api/v1/apptoken/grant', { session: admin })).body;
      const readerToken = (await t.http.get('/api/v1/apptoken/grant', { session: reader })).body;
      const own = (await t.http.get('/api/v1/apptoken/grant', { session: operator })).body;
      const others = [adminToken, readerToken];

      const byIds = await t.http.post('/api/v1/apptoken/bulk-revoke', { ids: [adminToken.id, readerToken.id, own.id] }, { session: operator });
      expect(byIds.status).toBe(200);
      expect(byIds.body).toEqual({ count: 1, ids: [own.id], descendantIds: [], skippedIds: [], dryRun: false });
      expect(await status(t, own.token)).toBe(401);
      const deleteIds = await t.http.post('/api/v1/apptoken/bulk-delete', { ids: [adminToken.id, readerToken.id] }, { session: operator });
      expect(deleteIds.body).toMatchObject({ count: 0, ids: [] });

      for (const identity of ['admin', 1, 'reader1', 'no-such-identity', 999_999]) {
        for (const route of ['bulk-revoke', 'bulk-delete']) {
          const response = await t.http.post(`/api/v1/apptoken/${route}`, { identity }, { session: operator });
          expect(`${route} ${identity} ${response.status} ${response.body.code}`).toBe(`${route} ${identity} 403 ROLE_REQUIRED`);
        }
      }
      const dry = await t.http.post('/api/v1/apptoken/bulk-revoke', { role: 'Reader', dryRun: true }, { session: operator });
      expect(dry.body.ids.length).toBeGreaterThan(0);
      const mine = (await listIds('pageSize=500', operator)).ids;
      expect(dry.body.ids.every((id: number) => mine.includes(id))).toBe(true);
      // Naming themselves is allowed.
      expect((await t.http.post('/api/v1/apptoken/bulk-revoke', { identity: 'ADAM', dryRun: true }, { session: operator })).status).toBe(200);
      expect((await t.http.post('/api/v1/apptoken/bulk-revoke', { identity: adam.id, dryRun: true }, { session: operator })).status).toBe(200);

      // The others' tokens still work, and are not revoked.
      for (const token of others) {
        expect(await status(t, token.token)).toBe(200);
        if (b) expect(await status(b, token.token)).toBe(200);
        expect((await t.http.get(`/api/v1/apptoken/${token.id}`, { session: admin })).body.revoked).toBe(false);
      }
    });

    it('with an app token, leaves alone (skippedIds) the tokens holding a role that token lacks, as a single revoke refuses them', async () => {
      const readerOnly = (await t.http.get('/api/v1/apptoken/grant?role=Reader', { session: operator })).body;
      const operatorToken = (await t.http.get('/api/v1/apptoken/grant?role=Operator', { session: operator })).body;
      const otherReader = (await t.http.get('/api/v1/apptoken/grant?role=Reader', { session: operator })).body;
      expect((await t.http.post(`/api/v1/apptoken/${operatorToken.id}/revoke`, undefined, { token: readerOnly.token })).status).toBe(403);
      const response = await t.http.post('/api/v1/apptoken/bulk-revoke', { ids: [operatorToken.id, otherReader.id] }, { token: readerOnly.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ count: 1, ids: [otherReader.id], descendantIds: [], skippedIds: [operatorToken.id], dryRun: false });
      expect(await status(t, operatorToken.token)).toBe(200);
      expect(await status(t, otherReader.token)).toBe(401);
      const audit = (await t.http.get('/api/v1/audit?action=apptoken.bulk_revoked&actor=adam', { session: admin })).body;
      expect(audit[0].detail).toMatchObject({ count: 1, ids: [otherReader.id], skippedIds: [operatorToken.id] });
    });

    it('never answers 500 when it races single revokes and rotations of the same tokens', async () => {
      const bot = await serviceIdentity('race-bot', ['Reader']);
      for (let round = 0; round < 3; round++) {
        const tokens = [];
        for (let i = 0; i < 12; i++) tokens.push(await grantTo(bot.id));
        // Children, so revocations walk down trees while the others lock.
        for (const parent of tokens.slice(0, 4)) await t.http.get('/api/v1/apptoken/grant', { token: parent.token });
        const requests = [
          t.http.post('/api/v1/apptoken/bulk-revoke', { identity: 'race-bot' }, { session: admin }),
          ...tokens.slice(0, 6).map((token) => t.http.post(`/api/v1/apptoken/${token.id}/revoke`, undefined, { session: admin })),
          ...tokens.slice(3, 9).map((token) => t.http.post(`/api/v1/apptoken/${token.id}/rotate`, {}, { session: admin })),
          t.http.post('/api/v1/apptoken/bulk-revoke', { ids: tokens.map((token) => token.id).reverse() }, { session: admin }),
        ];
        if (b) requests.push(b.http.post('/api/v1/apptoken/bulk-revoke', { identity: 'race-bot', role: 'Reader' }, { session: admin }));
        const statuses = (await Promise.all(requests)).map((response) => response.status);
        expect(statuses.filter((code) => ![200, 201, 409].includes(code))).toEqual([]);
        for (const token of tokens) expect(await status(t, token.token)).toBe(401);
      }
    }, 120_000);

    it('revokes about 1,000 one-year tokens of one identity in one request (the issue\'s schedule), and every one is refused after', async () => {
      const bot = await serviceIdentity('schedule-bot', ['Reader']);
      const tokens: Array<{ id: number; token: string }> = [];
      const started = performance.now();
      // Granted as a schedule would, through the API, a few at a time.
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (tokens.length < 1000) {
            const slot = tokens.length;
            tokens[slot] = { id: 0, token: '' };
            tokens[slot] = await grantTo(bot.id, { lifespanDays: 365, description: 'scheduled job' });
          }
        }),
      );
      process.stdout.write(`granted ${tokens.length} tokens in ${(performance.now() - started).toFixed(0)} ms\n`);
      const sample = [tokens[0], tokens[499], tokens[999]];
      for (const token of sample) await warm(token.token);

      let clock = performance.now();
      const dry = await t.http.post('/api/v1/apptoken/bulk-revoke', { identity: 'schedule-bot', dryRun: true }, { session: admin });
      const dryMs = performance.now() - clock;
      expect(dry.body.count).toBe(1000);
      clock = performance.now();
      const response = await t.http.post('/api/v1/apptoken/bulk-revoke', { identity: 'schedule-bot' }, { session: admin });
      const revokeMs = performance.now() - clock;
      expect(response.status).toBe(200);
      expect(response.body.count).toBe(1000);
      expect(response.body.ids).toEqual(tokens.map((token) => token.id).sort((x, y) => x - y));
      process.stdout.write(`bulk-revoke of 1000 tokens: dry run ${dryMs.toFixed(0)} ms, revoke ${revokeMs.toFixed(0)} ms (${databaseMode()} database${b ? ', two instances' : ''})\n`);
      for (const app of [t, b]) if (app) for (const token of sample) expect(await refusedAsRevoked(app, token.token)).toBe('401 Invalid app token: revoked');
      expect((await sql.query('SELECT count(*)::int AS n FROM app_token WHERE identity_id = $1 AND revoked_at IS NULL', [bot.id])).rows[0].n).toBe(0);
      expect((await sql.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE payload::jsonb #>> '{data,token,identity,name}' = 'schedule-bot'`)).rows[0].n).toBe(1000);
      expect((await t.http.get(`/api/v1/audit?action=apptoken.bulk_revoked&identity=${bot.id}`, { session: admin })).body).toHaveLength(1);
    }, 300_000);
  });

  describe('bulk-delete', () => {
    it('revokes and removes as DELETE /apptoken/{id} does: children too, tombstones left, refused at once, one audit event', async () => {
      const bot = await serviceIdentity('cleanup-bot', ['Reader']);
      const revoked = await grantTo(bot.id);
      const active = await grantTo(bot.id);
      const expired = await grantTo(bot.id);
      const child = (await t.http.get('/api/v1/apptoken/grant', { token: active.token })).body;
      expect((await t.http.post(`/api/v1/apptoken/${revoked.id}/revoke`, undefined, { session: admin })).status).toBe(200);
      await setDays(expired.id, { expires: -1 });

      const dry = await t.http.post('/api/v1/apptoken/bulk-delete', { identity: 'cleanup-bot', revokedOnly: true, dryRun: true }, { session: admin });
      expect(dry.body).toEqual({ count: 1, ids: [revoked.id], descendantIds: [], skippedIds: [], dryRun: true });
      const gone = await t.http.post('/api/v1/apptoken/bulk-delete', { identity: 'cleanup-bot', revokedOnly: true }, { session: admin });
      expect(gone.body).toEqual({ count: 1, ids: [revoked.id], descendantIds: [], skippedIds: [], dryRun: false });
      expect((await t.http.get(`/api/v1/apptoken/${revoked.id}`, { session: admin })).status).toBe(404);
      const expiredGone = await t.http.post('/api/v1/apptoken/bulk-delete', { identity: 'cleanup-bot', expiredOnly: true }, { session: admin });
      expect(expiredGone.body).toMatchObject({ count: 1, ids: [expired.id] });

      await warm(active.token);
      await warm(child.token);
      const byIds = await t.http.post('/api/v1/apptoken/bulk-delete', { ids: [active.id] }, { session: admin });
      expect(byIds.body).toEqual({ count: 1, ids: [active.id], descendantIds: [child.id], skippedIds: [], dryRun: false });
      for (const app of [t, b]) if (app) for (const token of [active, child]) expect(await status(app, token.token)).toBe(401);
      for (const id of [active.id, child.id]) expect((await t.http.get(`/api/v1/apptoken/${id}`, { session: admin })).status).toBe(404);
      // Tombstoned, so the JWTs cannot be migrated back in.
      const hashes = [active, child, revoked].map((token) => decodePayload(token.token)[CLAIM.hash]);
      expect((await sql.query('SELECT count(*)::int AS n FROM app_token_tombstone WHERE hash = ANY ($1::uuid[])', [hashes])).rows[0].n).toBe(3);
      const migrated = await t.http.post('/api/v1/apptoken', { Token: active.token, Identity: { Name: 'cleanup-bot' }, Role: 'Reader' }, { session: admin });
      expect(migrated.status).toBe(409);

      const audit = (await t.http.get('/api/v1/audit?action=apptoken.bulk_deleted', { session: admin })).body;
      expect(audit.map((event: any) => event.detail)).toEqual([
        { filter: { ids: [active.id] }, count: 1, ids: [active.id], descendantIds: [child.id] },
        { filter: { identity: 'cleanup-bot', expiredOnly: true }, count: 1, ids: [expired.id], descendantIds: [] },
        { filter: { identity: 'cleanup-bot', revokedOnly: true }, count: 1, ids: [revoked.id], descendantIds: [] },
      ]);
      const events = await deliveries([active.id, child.id, expired.id]);
      expect(events.map((event) => [event.type, event.body.data.token.id, event.body.data.bulk])).toEqual([
        ['apptoken.deleted', expired.id, true],
        ['apptoken.deleted', active.id, true],
        ['apptoken.deleted', child.id, true],
      ]);
      expect(events[0].body.data.filter).toEqual({ identity: 'cleanup-bot', expiredOnly: true });
      // Selected by ids: each event says how many were given, not the whole list.
      expect(events[1].body.data.filter).toEqual({ idCount: 1 });
      expect(events[2].body.data).toMatchObject({ reason: 'parent_deleted', bulk: true, parentTokenId: active.id });
    });
  });

  describe('bulk validation', () => {
    it('refuses a request without a filter, bad fields and too many ids with 400; an unknown identity or role with 404', async () => {
      const cases: Array<[object, RegExp]> = [
        [{}, /give at least one filter/],
        [{ dryRun: true }, /dryRun alone selects nothing/],
        [{ expiredOnly: false, revokedOnly: false }, /give at least one filter/],
        [{ ids: [] }, /ids must name at least one token/],
        [{ ids: [1.5] }, /ids must be whole numbers/],
        [{ ids: [0] }, /ids must be positive/],
        [{ ids: '1,2' }, /ids must be an array/],
        [{ ids: Array.from({ length: 10_001 }, (_, i) => i + 1) }, /ids may name at most 10000 tokens/],
        [{ unusedForDays: 0 }, /unusedForDays must be at least 1/],
        [{ unusedForDays: '30' }, /unusedForDays must be a whole number of days/],
        [{ unusedForDays: 36_501 }, /unusedForDays must be at most 36500/],
        [{ expiredOnly: 'yes' }, /expiredOnly must be true or false/],
        [{ identity: '' }, /identity must not be empty/],
        [{ identity: { id: 1 } }, /identity must be an identity id or name/],
        [{ role: ['Reader'] }, /role must be one role name/],
        [{ ids: [1], dryRun: 'true' }, /dryRun must be true or false/],
        [{ ids: [1], everything: true }, /property everything should not exist/],
      ];
      for (const route of ['bulk-revoke', 'bulk-delete']) {
        for (const [body, message] of cases) {
          const response = await t.http.post(`/api/v1/apptoken/${route}`, body, { session: admin });
          const label = `${route} ${JSON.stringify(body).slice(0, 60)}`;
          expect(`${label} ${response.status} ${response.body.code}`).toBe(`${label} 400 VALIDATION_FAILED`);
          expect(response.body.message).toMatch(message);
        }
      }
      const revokedOnly = await t.http.post('/api/v1/apptoken/bulk-revoke', { revokedOnly: true }, { session: admin });
      expect(revokedOnly.status).toBe(400);
      expect(revokedOnly.body.message).toMatch(/use it with bulk-delete/);
      expect((await t.http.post('/api/v1/apptoken/bulk-revoke', { identity: 'no-such-identity' }, { session: admin })).status).toBe(404);
      expect((await t.http.post('/api/v1/apptoken/bulk-delete', { role: 'NoSuchRole' }, { session: admin })).status).toBe(404);
      // PowerShell's property names (any letter case) are accepted.
      expect((await t.http.post('/api/v1/apptoken/bulk-revoke', { Role: 'Reader', DryRun: true }, { session: admin })).status).toBe(200);
    });

    it('refuses, before changing anything, a filter that matches more than 10,000 tokens', async () => {
      const bot = await serviceIdentity('cap-bot', ['Reader']);
      await sql.query(
        `INSERT INTO app_token (hash, token_sha256, identity_id, created_at, expires_at, origin)
         SELECT gen_random_uuid(), sha256(convert_to(g::text, 'UTF8')), $1, now(), now() + interval '1 year', 'granted' FROM generate_series(1, 10001) g`,
        [bot.id],
      );
      for (const body of [{ identity: 'cap-bot' }, { identity: 'cap-bot', dryRun: true }]) {
        const response = await t.http.post('/api/v1/apptoken/bulk-revoke', body, { session: admin });
        expect(response.status).toBe(400);
        expect(response.body.message).toBe('the filter matches 10001 tokens; one request takes at most 10000: narrow it (identity, role, ids) and repeat');
      }
      expect((await sql.query('SELECT count(*)::int AS n FROM app_token WHERE identity_id = $1 AND revoked_at IS NULL', [bot.id])).rows[0].n).toBe(10_001);
    });
  });
});
