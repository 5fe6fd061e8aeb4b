import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { databaseMode } from './support/database.js';
import { FreezingProxy } from './support/freezing-proxy.js';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS } from '../src/database/invalidation.service.js';

const twoInstances = databaseMode() === 'server' ? describe : describe.skip;
if (databaseMode() !== 'server') {
  process.stdout.write('SKIPPED: revocation across two instances needs a PostgreSQL server; embedded PGlite is one process\n');
}

/** Polls `probe` until it returns true; the milliseconds that took. */
async function within(limitMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await probe()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`not within ${limitMs} ms`);
}

twoInstances('revocation on every instance sharing the database (LISTEN/NOTIFY)', () => {
  let a: TestApp;
  let b: TestApp;
  let sessionA: string;
  let sessionB: string;

  beforeAll(async () => {
    a = await startApp();
    b = await startApp({ db: a.db });
    sessionA = await a.http.signin('admin', ADMIN_PASSWORD);
    sessionB = await b.http.signin('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.close();
  });

  const accepted = async (t: TestApp, token: string) => (await t.http.get('/api/v1/identity/my', { token })).status === 200;
  /** Gets a token into an instance's cache: after the grant's own NOTIFY has passed (a load it overlaps is not kept). */
  const warm = async (t: TestApp, token: string) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await accepted(t, token)).toBe(true);
    expect(await accepted(t, token)).toBe(true);
  };

  it('checks tokens with its own caches and database, even beside another application in the same process', async () => {
    // passport's strategy registry is process-wide: before, the application created last checked every
    // application's tokens, so closing it broke the others' Bearer authentication ("Driver not Connected").
    const granted = (await a.http.get('/api/v1/apptoken/grant', { session: sessionA })).body;
    const c = await startApp({ db: a.db });
    expect(await accepted(c, granted.token)).toBe(true);
    await c.stop();
    const afterwards = await a.http.get('/api/v1/identity/my', { token: granted.token });
    expect(afterwards.status).toBe(200);
    expect(await accepted(b, granted.token)).toBe(true);
  });

  it('refuses on instance B, within a second, a token revoked on instance A (20 revokes: median and worst)', async () => {
    const timings: number[] = [];
    for (let i = 0; i < 20; i++) {
      const granted = (await a.http.get('/api/v1/apptoken/grant', { session: sessionA })).body;
      // Warm B's cache, so a stale entry is what the revoke must overcome.
      await warm(b, granted.token);
      const revoked = await a.http.post(`/api/v1/apptoken/${granted.id}/revoke`, undefined, { session: sessionA });
      expect(revoked.status).toBe(200);
      timings.push(await within(1000, async () => !(await accepted(b, granted.token))));
    }
    const sorted = [...timings].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)];
    const worst = sorted[sorted.length - 1];
    process.stdout.write(`two-instance revocation: median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms over ${timings.length} revokes\n`);
    expect(worst).toBeLessThan(1000);
  });

  it('applies rotation, deletion, demotion, disabling and role deletion made on B to tokens cached on A', async () => {
    await b.http.post('/api/v1/role', { name: 'Deploy' }, { session: sessionB });
    const id = (await b.http.post('/api/v1/identity', { name: 'deployer', source: 'service', roles: ['Operator', 'Reader', 'Deploy'] }, { session: sessionB })).body.id;
    const grant = async () => (await b.http.get(`/api/v1/apptoken/grant/${id}`, { session: sessionB })).body;
    const roles = async (token: string) => (await a.http.get('/api/v1/identity/my', { token })).body.roles;

    const rotated = await grant();
    expect(await accepted(a, rotated.token)).toBe(true);
    await b.http.post(`/api/v1/apptoken/${rotated.id}/rotate`, {}, { session: sessionB });
    await within(1000, async () => !(await accepted(a, rotated.token)));

    const deleted = await grant();
    expect(await accepted(a, deleted.token)).toBe(true);
    await b.http.delete(`/api/v1/apptoken/${deleted.id}`, { session: sessionB });
    await within(1000, async () => !(await accepted(a, deleted.token)));

    const token = (await grant()).token;
    expect(await roles(token)).toEqual(['Operator', 'Reader', 'Deploy']);
    await b.http.delete('/api/v1/role/Deploy', { session: sessionB });
    await within(1000, async () => JSON.stringify(await roles(token)) === '["Operator","Reader"]');
    await b.http.patch(`/api/v1/identity/${id}`, { roles: ['Reader'] }, { session: sessionB });
    await within(1000, async () => JSON.stringify(await roles(token)) === '["Reader"]');
    await b.http.patch(`/api/v1/identity/${id}`, { disabled: true }, { session: sessionB });
    await within(1000, async () => !(await accepted(a, token)));
    await b.http.patch(`/api/v1/identity/${id}`, { disabled: false }, { session: sessionB });
    await within(1000, async () => accepted(a, token));
    await b.http.delete(`/api/v1/identity/${id}`, { session: sessionB });
    await within(1000, async () => !(await accepted(a, token)));
  });

  it('stops trusting its cache while its LISTEN connection is down, and recovers', async () => {
    const granted = (await a.http.get('/api/v1/apptoken/grant', { session: sessionA })).body;
    await warm(b, granted.token);
    const admin = new pg.Client({ connectionString: a.db.url });
    await admin.connect();
    try {
      // Cut every listener; a revoke NOTIFYs while no one listens.
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'apptoken-server-listener' AND datname = $1`, [a.db.name]);
      await a.http.post(`/api/v1/apptoken/${granted.id}/revoke`, undefined, { session: sessionA });
      expect(await accepted(b, granted.token)).toBe(false);
      // Once reconnected, caching and cross-instance revocation work again.
      const next = (await a.http.get('/api/v1/apptoken/grant', { session: sessionA })).body;
      await within(10_000, async () => {
        const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'apptoken-server-listener' AND datname = $1`, [a.db.name]);
        return rows[0].n === 2;
      });
      expect(await accepted(b, next.token)).toBe(true);
      await a.http.post(`/api/v1/apptoken/${next.id}/revoke`, undefined, { session: sessionA });
      await within(1000, async () => !(await accepted(b, next.token)));
    } finally {
      await admin.end();
    }
  });

  it('notices a LISTEN connection that went silent (no FIN, no RST) and stops trusting its cache', async () => {
    const target = new URL(a.db.url);
    const proxy = new FreezingProxy(target.hostname, Number(target.port || 5432));
    const port = await proxy.start();
    const viaProxy = new URL(a.db.url);
    viaProxy.port = String(port);
    const c = await startApp({ db: a.db, databaseUrl: viaProxy.toString() });
    try {
      const granted = (await a.http.get('/api/v1/apptoken/grant', { session: sessionA })).body;
      await warm(c, granted.token);
      expect(proxy.freeze('apptoken-server-listener')).toBe(1);
      await a.http.post(`/api/v1/apptoken/${granted.id}/revoke`, undefined, { session: sessionA });
      // Within one heartbeat and its timeout the silent connection is declared lost: the cache goes unused.
      const took = await within(HEARTBEAT_INTERVAL_MS + HEARTBEAT_TIMEOUT_MS + 2000, async () => !(await accepted(c, granted.token)));
      process.stdout.write(`silent LISTEN connection noticed after ${Math.round(took)} ms\n`);
    } finally {
      await c.stop();
      await proxy.stop();
    }
  });
});
