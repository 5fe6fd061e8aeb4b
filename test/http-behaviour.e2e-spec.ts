import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';

describe('HTTP behaviour', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startApp();
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => t?.close());

  it('answers liveness and readiness', async () => {
    expect((await t.http.get('/api/v1/alive')).body).toEqual({ status: 'ok' });
    const ready = await t.http.get('/api/v1/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
  });
});
