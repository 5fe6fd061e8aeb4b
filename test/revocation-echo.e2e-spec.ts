import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { CLAIM } from '../src/app-token/token-codec.js';
import { InvalidationService } from '../src/database/invalidation.service.js';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { databaseMode } from './support/database.js';

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
  let admin: string;
  const arrivals = new Map<string, number>();

  beforeAll(async () => {
    t = await startApp();
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    const client = (t.app.get(InvalidationService) as unknown as { client: pg.Client }).client;
    client.on('notification', (message) => {
      if (message.payload && !arrivals.has(message.payload)) arrivals.set(message.payload, performance.now());
    });
  });
  afterAll(async () => {
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
});
