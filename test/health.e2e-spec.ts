import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, type TestApp } from './support/app.js';
import { databaseMode } from './support/database.js';
import { DatabaseOutage } from './support/database-outage.js';

const LISTENER = 'apptoken-server-listener';

/** Polls readiness until `done` accepts the body (the listener reconnects on its own schedule). */
async function readyUntil(t: TestApp, done: (body: any) => boolean, timeoutMs = 10_000): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await t.http.get('/api/v1/ready');
    if (done(response.body) || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('readiness reports the invalidation listener beside the database', () => {
  let t: TestApp;
  let outage: DatabaseOutage | undefined;
  beforeAll(async () => {
    t = await startApp();
    if (databaseMode() === 'server') outage = await DatabaseOutage.of(t.db);
  });
  afterAll(async () => {
    await outage?.dispose();
    await t?.close();
  });

  it('says ok with the database and the listener up (the terminus shape kept)', async () => {
    const ready = await t.http.get('/api/v1/ready');
    expect(ready.status).toBe(200);
    const listener = databaseMode() === 'server' ? 'up' : 'embedded';
    expect(ready.body).toMatchObject({
      status: 'ok',
      database: 'up',
      invalidationListener: listener,
      info: { database: { status: 'up' }, invalidationListener: { status: listener, caching: 'on' } },
      error: {},
      details: { database: { status: 'up' }, invalidationListener: { status: listener, caching: 'on' } },
    });
    expect(ready.body.reason).toBeUndefined();
  });

  (databaseMode() === 'server' ? it : it.skip)('says degraded (200, caching off, and why) while the LISTEN connection is down, and ok once it is back', async () => {
    // Kill the listener's backend and keep it from reconnecting; the pool's open connections still answer the ping.
    await outage!.refuseConnections();
    expect(await outage!.terminate(LISTENER)).toBe(1);
    const degraded = await readyUntil(t, (body) => body.status === 'degraded');
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({
      status: 'degraded',
      database: 'up',
      invalidationListener: 'down',
      info: { database: { status: 'up' } },
      error: { invalidationListener: { status: 'down', caching: 'off' } },
      details: { database: { status: 'up' }, invalidationListener: { status: 'down', caching: 'off' } },
    });
    expect(degraded.body.reason).toMatch(/^invalidation listener down \(.+\): caching is off until it reconnects$/);
    expect(degraded.body.info.invalidationListener).toBeUndefined();

    await outage!.end();
    const recovered = await readyUntil(t, (body) => body.status === 'ok');
    expect(recovered.status).toBe(200);
    expect(recovered.body).toMatchObject({ status: 'ok', invalidationListener: 'up', error: {}, details: { invalidationListener: { status: 'up', caching: 'on' } } });
    expect(await outage!.connections(LISTENER)).toBe(1);
  });
});
