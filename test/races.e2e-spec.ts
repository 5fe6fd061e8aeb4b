import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { connect, databaseMode } from './support/database.js';
import { HttpClient } from './support/http.js';
import { killAll, startServer, type RunningServer } from './support/process.js';
import { mintPsuToken } from './support/tokens.js';

const serverOnly = databaseMode() === 'server' ? describe : describe.skip;
if (databaseMode() !== 'server') {
  process.stdout.write('SKIPPED: races need a PostgreSQL server (two instances, row locks across connections)\n');
}

interface Use {
  /** performance.now() just before the request was handed to fetch (never later than it was sent). */
  start: number;
  status: number;
}

interface BurstResult {
  uses: Use[];
  /** When the revoke was fired, and when its 2xx arrived. */
  revokeSent: number;
  revokeAnswered: number;
}

const TOTAL = 200;
const IN_FLIGHT = 20;
/** Uses go on past TOTAL until this many have started after the revoke's 2xx (at most MAX_USES in all). */
const MIN_AFTER = 20;
const MAX_USES = 5000;

/**
 * 200 uses (or more, see MIN_AFTER) of `token` against `target`, IN_FLIGHT at a time, with the revoke fired when the 100th starts.
 * Each use's start time and status is recorded; so is the moment the revoke's 2xx arrived.
 */
async function burstWhileRevoking(target: string, token: string, revoke: () => Promise<Response>): Promise<BurstResult> {
  const uses: Use[] = [];
  let next = 0;
  let revokeSent = Number.NaN;
  let revokeAnswered = Number.POSITIVE_INFINITY;
  let revoking: Promise<void> | undefined;
  // Past TOTAL while fewer than MIN_AFTER uses have started after the 2xx: fast uses would otherwise all finish
  // before a slow revoke answers, and the burst would no longer straddle it.
  const startedAfter = () => uses.filter((use) => use.start > revokeAnswered).length;
  const worker = async () => {
    while (next < TOTAL || (startedAfter() < MIN_AFTER && next < MAX_USES)) {
      const i = next++;
      if (i === TOTAL / 2) {
        revokeSent = performance.now();
        revoking = revoke().then(async (response) => {
          revokeAnswered = performance.now();
          await response.arrayBuffer();
          if (response.status !== 200) throw new Error(`revoke answered ${response.status}`);
        });
      }
      const start = performance.now();
      const response = await fetch(`${target}/api/v1/identity/my`, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      uses.push({ start, status: response.status });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  await revoking;
  return { uses, revokeSent, revokeAnswered };
}

/** Checks one burst and returns its figures: no use that started after the revoke's 2xx arrived succeeded. */
function judge(result: BurstResult) {
  const { uses, revokeSent, revokeAnswered } = result;
  expect(uses.length).toBeGreaterThanOrEqual(TOTAL);
  for (const use of uses) expect([200, 401]).toContain(use.status);
  const afterAnswer = uses.filter((u) => u.start > revokeAnswered);
  const lateSuccesses = afterAnswer.filter((u) => u.status === 200);
  const successes = uses.filter((u) => u.status === 200);
  const lastSuccessStart = Math.max(...successes.map((u) => u.start));
  return {
    ok: successes.length,
    refused: uses.length - successes.length,
    startedAfter2xx: afterAnswer.length,
    lateSuccesses: lateSuccesses.length,
    revokeMs: revokeAnswered - revokeSent,
    /** When the last successful use started, relative to the revoke's 2xx (negative: before it). */
    lastSuccessVs2xx: lastSuccessStart - revokeAnswered,
  };
}

function report(label: string, rounds: Array<ReturnType<typeof judge>>): void {
  const sum = (key: 'ok' | 'refused' | 'startedAfter2xx' | 'lateSuccesses') => rounds.reduce((n, r) => n + r[key], 0);
  const latest = Math.max(...rounds.map((r) => r.lastSuccessVs2xx));
  const slowest = Math.max(...rounds.map((r) => r.revokeMs));
  process.stdout.write(
    `${label}: ${rounds.length} rounds x ${TOTAL} uses: ${sum('ok')} accepted, ${sum('refused')} refused, ` +
      `${sum('startedAfter2xx')} started after the change's 2xx, ${sum('lateSuccesses')} of those accepted; ` +
      `latest accepted use started ${latest.toFixed(2)} ms relative to the 2xx; slowest change ${slowest.toFixed(1)} ms\n`,
  );
}

serverOnly('races and floods against one PostgreSQL', () => {
  let a: TestApp;
  let b: RunningServer;
  let sql: pg.Client;
  let session: string;

  beforeAll(async () => {
    a = await startApp();
    // Instance B is a separate process, as in a real deployment: it learns of A's changes only through NOTIFY.
    b = await startServer({ DATABASE_URL: a.db.url, JWT_SIGNING_KEY: TEST_SIGNING_KEY, ADMIN_PASSWORD, LOG_LEVEL: 'info' });
    sql = await connect(a.db.url);
    session = await a.http.signin('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await b?.stop();
    killAll();
    await sql?.end();
    await a?.close();
  });

  const grant = async () => {
    const response = await a.http.get('/api/v1/apptoken/grant', { session });
    expect(response.status).toBe(200);
    return response.body as { id: number; token: string };
  };
  const revokeOnA = (id: number) => () =>
    fetch(`${a.baseUrl}/api/v1/apptoken/${id}/revoke`, { method: 'POST', headers: { cookie: `apptoken_session=${session}` } });
  /** Gets the token into `target`'s cache, once the grant's own NOTIFY has passed. */
  const warm = async (target: string, token: string) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 3; i++) expect((await new HttpClient(target).get('/api/v1/identity/my', { token })).status).toBe(200);
  };

  describe('a token revoked in the middle of a burst of 200 uses', () => {
    const ROUNDS = 5;

    it('on the instance that revokes it: no use that starts after the revoke\'s 2xx succeeds', async () => {
      const rounds = [];
      for (let round = 0; round < ROUNDS; round++) {
        const { id, token } = await grant();
        await warm(a.baseUrl, token);
        rounds.push(judge(await burstWhileRevoking(a.baseUrl, token, revokeOnA(id))));
      }
      report('revoke on A, uses on A', rounds);
      // The burst really straddled the revoke: uses succeeded before it and many started after its 2xx.
      for (const r of rounds) {
        expect(r.ok).toBeGreaterThan(0);
        expect(r.startedAfter2xx).toBeGreaterThanOrEqual(10);
      }
      expect(rounds.map((r) => r.lateSuccesses)).toEqual(rounds.map(() => 0));
    });

    it('on another instance (B, its own process) on the same database: no use of B that starts after A\'s 2xx succeeds', async () => {
      const rounds = [];
      for (let round = 0; round < ROUNDS; round++) {
        const { id, token } = await grant();
        await warm(b.baseUrl, token);
        rounds.push(judge(await burstWhileRevoking(b.baseUrl, token, revokeOnA(id))));
      }
      report('revoke on A, uses on B', rounds);
      for (const r of rounds) {
        expect(r.ok).toBeGreaterThan(0);
        expect(r.startedAfter2xx).toBeGreaterThanOrEqual(10);
      }
      expect(rounds.map((r) => r.lateSuccesses)).toEqual(rounds.map(() => 0));
    });

    it('and a token whose identity is disabled mid-burst: no use on A or B that starts after the 2xx succeeds', async () => {
      const id = (await a.http.post('/api/v1/identity', { name: 'disabled-mid-burst', source: 'service', roles: ['Reader'] }, { session })).body.id;
      const disable = (disabled: boolean) => () =>
        fetch(`${a.baseUrl}/api/v1/identity/${id}`, {
          method: 'PATCH',
          headers: { cookie: `apptoken_session=${session}`, 'content-type': 'application/json' },
          body: JSON.stringify({ disabled }),
        });
      const token = (await a.http.get(`/api/v1/apptoken/grant/${id}`, { session })).body.token as string;
      const rounds = [];
      for (const target of [a.baseUrl, b.baseUrl, a.baseUrl, b.baseUrl]) {
        await warm(target, token);
        rounds.push(judge(await burstWhileRevoking(target, token, disable(true))));
        expect((await disable(false)()).status).toBe(200);
      }
      report('identity disabled on A, uses on A and B', rounds);
      for (const r of rounds) {
        expect(r.ok).toBeGreaterThan(0);
        expect(r.startedAfter2xx).toBeGreaterThanOrEqual(10);
      }
      expect(rounds.map((r) => r.lateSuccesses)).toEqual([0, 0, 0, 0]);
    });

    it('across instances whose clocks are 2 s apart (hosts without NTP): no use that starts after the revoke\'s 2xx succeeds', async () => {
      const skewedBy = (ms: number) =>
        startServer({
          DATABASE_URL: a.db.url,
          JWT_SIGNING_KEY: TEST_SIGNING_KEY,
          ADMIN_PASSWORD,
          LOG_LEVEL: 'info',
          NODE_OPTIONS: `--import=${pathToFileURL(path.resolve('test/support/skewed-clock.mjs')).href}`,
          APPTOKEN_TEST_CLOCK_SKEW_MS: String(ms),
        });
      const [behind, ahead] = await Promise.all([skewedBy(-2000), skewedBy(2000)]);
      try {
        const aheadSession = await new HttpClient(ahead.baseUrl).signin('admin', ADMIN_PASSWORD);
        const revokeOnAhead = (id: number) => () =>
          fetch(`${ahead.baseUrl}/api/v1/apptoken/${id}/revoke`, { method: 'POST', headers: { cookie: `apptoken_session=${aheadSession}` } });
        const readerBehind = [];
        const writerAhead = [];
        for (let round = 0; round < 2; round++) {
          // Revoked by an instance on time, used on one whose clock runs behind.
          let { id, token } = await grant();
          await warm(behind.baseUrl, token);
          readerBehind.push(judge(await burstWhileRevoking(behind.baseUrl, token, revokeOnA(id))));
          // Revoked by an instance whose clock runs ahead, used on one on time.
          ({ id, token } = await grant());
          await warm(a.baseUrl, token);
          writerAhead.push(judge(await burstWhileRevoking(a.baseUrl, token, revokeOnAhead(id))));
        }
        report('revoke on A, uses on an instance 2 s behind', readerBehind);
        report('revoke on an instance 2 s ahead, uses on A', writerAhead);
        for (const r of [...readerBehind, ...writerAhead]) {
          expect(r.ok).toBeGreaterThan(0);
          expect(r.startedAfter2xx).toBeGreaterThanOrEqual(10);
        }
        expect([...readerBehind, ...writerAhead].map((r) => r.lateSuccesses)).toEqual([0, 0, 0, 0]);
      } finally {
        await Promise.all([behind.stop(), ahead.stop()]);
      }
    });
  });

  it('deleting a role while it is being given (identity update, identity creation, grant) answers 4xx, never 500', async () => {
    const target = (await a.http.post('/api/v1/identity', { name: 'role-race-target', source: 'service', roles: ['Reader'] }, { session })).body.id;
    const holder = (await a.http.post('/api/v1/identity', { name: 'role-race-holder', source: 'service', roles: ['Reader'] }, { session })).body.id;
    const statuses = new Map<string, number>();
    const count = (label: string, status: number) => statuses.set(`${label} ${status}`, (statuses.get(`${label} ${status}`) ?? 0) + 1);
    for (let round = 0; round < 30; round++) {
      const role = `Temp${round}`;
      expect((await a.http.post('/api/v1/role', { name: role }, { session })).status).toBe(201);
      expect((await a.http.patch(`/api/v1/identity/${holder}`, { roles: ['Reader', role] }, { session })).status).toBe(200);
      const [update, create, grantWith, deleted] = await Promise.all([
        a.http.patch(`/api/v1/identity/${target}`, { roles: ['Reader', role] }, { session }),
        a.http.post('/api/v1/identity', { name: `role-race-${round}`, source: 'service', roles: [role] }, { session }),
        a.http.post('/api/v1/apptoken/grant', { identity: { id: holder }, roles: [role] }, { session }),
        a.http.delete(`/api/v1/role/${role}`, { session }),
      ]);
      count('update', update.status);
      count('create', create.status);
      count('grant', grantWith.status);
      count('role delete', deleted.status);
      for (const response of [update, create, grantWith, deleted]) {
        if (response.status >= 500) process.stdout.write(`round ${round}: ${response.status} ${response.text}\n`);
        expect(response.status).toBeLessThan(500);
      }
    }
    process.stdout.write(`role deleted while given: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
  });

  it('deleting an identity while a token is migrated to it answers 4xx, never 500', async () => {
    const statuses = new Map<string, number>();
    const count = (label: string, status: number) => statuses.set(`${label} ${status}`, (statuses.get(`${label} ${status}`) ?? 0) + 1);
    for (let round = 0; round < 60; round++) {
      const name = `migration-race-${round}`;
      const id = (await a.http.post('/api/v1/identity', { name, source: 'service', roles: ['Reader'] }, { session })).body.id;
      const token = mintPsuToken({ name, roles: ['Reader'] }, TEST_SIGNING_KEY);
      const [migrated, deleted] = await Promise.all([
        a.http.post('/api/v1/apptoken', { token, identity: { name }, role: ['Reader'] }, { session }),
        a.http.delete(`/api/v1/identity/${id}`, { session }),
      ]);
      count('migrate', migrated.status);
      count('delete', deleted.status);
      for (const response of [migrated, deleted]) {
        if (response.status >= 500) process.stdout.write(`round ${round}: ${response.status} ${response.text}\n`);
        expect(response.status).toBeLessThan(500);
      }
    }
    process.stdout.write(`identity deleted while a token is migrated to it: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
  });

  describe('two Administrators removing each other at once', () => {
    const ROUNDS = 20;
    const names = ['race-admin-x', 'race-admin-y'] as const;
    const password = (name: string) => `${name}-password`;
    let ids: Record<string, number>;

    const enabledAdministrators = async () => {
      const { rows } = await sql.query(
        `SELECT i.name FROM identity i JOIN identity_role ir ON ir.identity_id = i.id JOIN role r ON r.id = ir.role_id
          WHERE r.builtin AND r.name = 'Administrator' AND NOT i.disabled ORDER BY i.name`,
      );
      return rows.map((row: { name: string }) => row.name);
    };
    const create = async (session: string, name: string) => {
      const created = await a.http.post('/api/v1/identity', { name, password: password(name), roles: ['Administrator'] }, { session });
      expect(created.status).toBe(201);
      ids[name] = created.body.id;
    };

    beforeAll(async () => {
      ids = {};
      for (const name of names) await create(session, name);
      // Only x and y remain enabled Administrators: the bootstrap admin is disabled (by x, as admin may not disable itself last).
      const x = await a.http.signin(names[0], password(names[0]));
      const adminId = (await a.http.get('/api/v1/identity/my', { session })).body.id;
      expect((await a.http.patch(`/api/v1/identity/${adminId}`, { disabled: true }, { session: x })).status).toBe(200);
      expect(await enabledAdministrators()).toEqual([...names]);
    });

    /**
     * ROUNDS times: x and y (each signed in) fire `remove` at each other in parallel; at least one enabled
     * Administrator must remain, exactly one request may succeed, and the survivor puts the other back.
     */
    const race = async (
      label: string,
      remove: (session: string, otherId: number, round: number) => Promise<{ status: number }>,
      restore: (survivorSession: string, loser: string) => Promise<void>,
    ) => {
      const outcomes = new Map<string, number>();
      for (let round = 0; round < ROUNDS; round++) {
        const sessions = await Promise.all(names.map((name) => a.http.signin(name, password(name))));
        const [fromX, fromY] = await Promise.all([remove(sessions[0], ids[names[1]], round), remove(sessions[1], ids[names[0]], round)]);
        const survivors = await enabledAdministrators();
        expect(survivors.length).toBeGreaterThanOrEqual(1);
        const statuses = [fromX.status, fromY.status];
        const key = [...statuses].sort().join('+');
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        // Exactly one wins; the other is refused by the last-Administrator rule (409) or, if it came late, by the
        // guard: 403 once demoted or disabled, 401 once deleted (its session went with it).
        expect(statuses.filter((s) => s < 300)).toHaveLength(1);
        expect(statuses.filter((s) => s === 409 || s === 403 || s === 401)).toHaveLength(1);
        const survivor = statuses[0] < 300 ? 0 : 1;
        await restore(sessions[survivor], names[1 - survivor]);
        expect(await enabledAdministrators()).toEqual([...names]);
      }
      process.stdout.write(`${label}: ${ROUNDS} rounds, outcomes ${JSON.stringify(Object.fromEntries(outcomes))}\n`);
      // The race was really run: in some rounds both requests got past the guard and the service refused one.
      expect([...outcomes].filter(([key]) => key.includes('409')).reduce((n, [, count]) => n + count, 0)).toBeGreaterThan(0);
    };

    it('demoting each other (PATCH and PUT, roles without Administrator) leaves one enabled Administrator', async () => {
      await race(
        'mutual demotion',
        (s, other, round) => (round % 2 === 0 ? a.http.patch : a.http.put).call(a.http, `/api/v1/identity/${other}`, { roles: ['Reader'] }, { session: s }),
        async (s, loser) => {
          expect((await a.http.patch(`/api/v1/identity/${ids[loser]}`, { roles: ['Administrator'] }, { session: s })).status).toBe(200);
        },
      );
    });

    it('disabling each other leaves one enabled Administrator', async () => {
      await race(
        'mutual disabling',
        (s, other, round) => (round % 2 === 0 ? a.http.patch : a.http.put).call(a.http, `/api/v1/identity/${other}`, { disabled: true }, { session: s }),
        async (s, loser) => {
          expect((await a.http.patch(`/api/v1/identity/${ids[loser]}`, { disabled: false }, { session: s })).status).toBe(200);
        },
      );
    });

    it('deleting each other leaves one enabled Administrator', async () => {
      await race(
        'mutual deletion',
        (s, other) => a.http.delete(`/api/v1/identity/${other}`, { session: s }),
        (s, loser) => create(s, loser),
      );
    });
  });
});
