import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { CLAIM } from '../src/app-token/token-codec.js';
import { InvalidationService } from '../src/database/invalidation.service.js';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { databaseMode } from './support/database.js';
import { HttpClient } from './support/http.js';
import { killAll, startServer, type RunningServer } from './support/process.js';

const withListener = databaseMode() === 'server' ? describe : describe.skip;
if (databaseMode() !== 'server') {
  process.stdout.write('SKIPPED: the NOTIFY echo needs a PostgreSQL server; embedded PGlite invalidates in-process only\n');
}

/**
 * A revocation is answered only once its NOTIFY has come back through the instance's own listener: PostgreSQL
 * hands a notification to every listening session at once, so by then every other instance has been sent it.
 * Observed from inside the process: the listener's arrival is recorded (after the service's own handler) and
 * must come before the revoke's 2xx reaches the client, for every one of a series of revocations.
 */
withListener('a change is answered after its NOTIFY has come back', () => {
  let t: TestApp;
  let other: RunningServer;
  let otherHttp: HttpClient;
  let admin: string;
  const arrivals = new Map<string, number>();

  beforeAll(async () => {
    t = await startApp();
    // A separate process, as in a deployment: it learns of the change only through NOTIFY.
    other = await startServer({ DATABASE_URL: t.db.url, JWT_SIGNING_KEY: TEST_SIGNING_KEY, ADMIN_PASSWORD, LOG_LEVEL: 'warn' });
    otherHttp = new HttpClient(other.baseUrl);
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    const client = (t.app.get(InvalidationService) as unknown as { client: pg.Client }).client;
    client.on('notification', (message) => {
      if (message.payload && !arrivals.has(message.payload)) arrivals.set(message.payload, performance.now());
    });
  });
  afterAll(async () => {
    await other?.stop();
    killAll();
    await t?.close();
  });

  it('answers each revoke after the listener has heard it (20 revocations)', async () => {
    for (let i = 0; i < 20; i++) {
      const granted = await t.http.get('/api/v1/apptoken/grant', { session: admin });
      expect(granted.status).toBe(200);
      const hash = JSON.parse(Buffer.from(granted.body.token.split('.')[1], 'base64url').toString())[CLAIM.hash] as string;
      const revoked = await t.http.post(`/api/v1/apptoken/${granted.body.id}/revoke`, undefined, { session: admin });
      const answered = performance.now();
      expect(revoked.status).toBe(200);
      const heard = arrivals.get(`t:${hash}`);
      expect(heard).toBeDefined();
      expect(heard!).toBeLessThan(answered);
    }
  });

  it('has every other instance refuse the token by the time the revoke answers (found from outside: 1-13 % were accepted)', async () => {
    let acceptedAfter = 0;
    for (let i = 0; i < 60; i++) {
      const granted = await t.http.get('/api/v1/apptoken/grant', { session: admin });
      const token = granted.body.token as string;
      expect((await otherHttp.get('/api/v1/identity/my', { token })).status).toBe(200); // cached there now
      expect((await t.http.post(`/api/v1/apptoken/${granted.body.id}/revoke`, undefined, { session: admin })).status).toBe(200);
      if ((await otherHttp.get('/api/v1/identity/my', { token })).status !== 401) acceptedAfter++;
    }
    expect(acceptedAfter).toBe(0);
  });
});
