import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { WebhookHousekeepingService } from '../src/webhook/webhook-housekeeping.service.js';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { connect, createTestDatabase, type TestDatabase } from './support/database.js';
import { HttpClient } from './support/http.js';
import { killAll, startServer, type RunningServer } from './support/process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LOOPBACK_ALLOWED = { WEBHOOK_ALLOWED_HOSTS: '*,127.0.0.1' };
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver does with a request: answer it, or hold it open without answering. */
type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hold';

/** A webhook receiver on 127.0.0.1: records every request; answers per path from a script, else 204. */
class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, Answer[]>();
  private readonly waiters: Array<() => void> = [];
  private readonly server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      this.received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      for (const wake of this.waiters.splice(0)) wake();
      this.answer(response, this.scripts.get(path)?.shift() ?? { status: 204 });
    });
  });
  port = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The answers to the next requests to `path`, in order (then 204). */
  script(path: string, ...answers: Answer[]): void {
    this.scripts.set(path, answers);
  }

  /** Waits until `count` requests to `path` have arrived; returns them. */
  async requests(path: string, count: number, timeoutMs = 30000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.received.filter((r) => r.path === path);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline) throw new Error(`${matching.length} of ${count} requests to ${path} arrived within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /** Waits for a request to `path` that `matches`. */
  async find(path: string, matches: (request: Received) => boolean, timeoutMs = 30000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((r) => r.path === path && matches(r));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching request to ${path} arrived within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private answer(response: ServerResponse, answer: Answer): void {
    if (answer === 'hold') return;
    response.writeHead(answer.status, answer.headers).end(answer.body ?? '');
  }
}

/** Standard Webhooks, computed here independently of the server's code. */
function expectedSignature(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** Polls the deliveries route until `done` holds for the first delivery (the dispatcher records after the answer). */
async function deliveriesWhen(http: HttpClient, session: string, webhookId: number, done: (deliveries: any[]) => boolean, timeoutMs = 30000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await http.get(`/api/v1/webhook/${webhookId}/deliveries`, { session });
    expect(response.status).toBe(200);
    if (done(response.body)) return response.body;
    if (Date.now() > deadline) throw new Error(`deliveries never reached the expected state: ${JSON.stringify(response.body)}`);
    await sleep(200);
  }
}

describe('webhooks', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().start();
  });
  afterAll(async () => receiver?.close());

  describe('with loopback allowed (WEBHOOK_ALLOWED_HOSTS=*,127.0.0.1)', () => {
    let t: TestApp;
    let sql: pg.Client;
    let admin: string;
    let operator: string;

    beforeAll(async () => {
      t = await startApp({ env: LOOPBACK_ALLOWED });
      sql = await connect(t.db.url);
      admin = await t.http.signin('admin', ADMIN_PASSWORD);
      await t.http.post('/api/v1/identity', { name: 'oscar', password: 'oscar-password', roles: ['Operator'] }, { session: admin });
      operator = await t.http.signin('oscar', 'oscar-password');
    });
    afterAll(async () => {
      await sql?.end();
      await t?.close();
    });

    it('creates, lists, reads, changes and deletes a webhook; the secret is shown only when made, and never audited', async () => {
      const created = await t.http.post('/api/v1/webhook', { url: receiver.url('/crud'), events: ['apptoken.revoked', 'apptoken.granted', 'apptoken.revoked'], description: 'SIEM' }, { session: admin });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ url: receiver.url('/crud'), events: ['apptoken.granted', 'apptoken.revoked'], description: 'SIEM', enabled: true, previousSecretExpires: null });
      const secret: string = created.body.secret;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
      const id: number = created.body.id;

      const one = await t.http.get(`/api/v1/webhook/${id}`, { session: admin });
      expect(one.status).toBe(200);
      expect(one.body).not.toHaveProperty('secret');
      expect(one.text).not.toContain(secret.slice(6));
      const list = await t.http.get('/api/v1/webhook', { session: admin });
      expect(list.headers.get('x-total-count')).toBe(String(list.body.length));
      expect(list.body.map((w: { id: number }) => w.id)).toContain(id);
      expect(list.text).not.toContain(secret.slice(6));

      const changed = await t.http.put(`/api/v1/webhook/${id}`, { Description: 'SIEM 2', events: '*' }, { session: admin });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ id, description: 'SIEM 2', events: ['*'] });
      expect(changed.body).not.toHaveProperty('secret');

      const rotated = await t.http.put(`/api/v1/webhook/${id}`, { rotateSecret: true }, { session: admin });
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(secret);
      expect(Date.parse(rotated.body.previousSecretExpires)).toBeGreaterThan(Date.now() + 23 * 3600_000);
      const own = await t.http.put(`/api/v1/webhook/${id}`, { secret: SECRET }, { session: admin });
      expect(own.body.secret).toBe(SECRET);

      expect((await t.http.delete(`/api/v1/webhook/${id}`, { session: admin })).status).toBe(204);
      expect((await t.http.get(`/api/v1/webhook/${id}`, { session: admin })).status).toBe(404);
      expect((await t.http.delete(`/api/v1/webhook/${id}`, { session: admin })).status).toBe(404);

      const audit = await t.http.get('/api/v1/audit?action=webhook.&pageSize=50', { session: admin });
      expect(audit.body.map((e: { action: string }) => e.action)).toEqual(['webhook.deleted', 'webhook.updated', 'webhook.updated', 'webhook.updated', 'webhook.created']);
      expect(audit.text).not.toContain(secret.slice(6));
      expect(audit.text).not.toContain(rotated.body.secret.slice(6));
      expect(audit.text).not.toContain(SECRET.slice(6));
      const stored = await sql.query<{ detail: unknown }>(`SELECT detail FROM audit_event WHERE action LIKE 'webhook.%'`);
      expect(JSON.stringify(stored.rows)).not.toContain('whsec_');
    });

    it('lists the event types, and GET /webhook/events is not taken for an id', async () => {
      const events = await t.http.get('/api/v1/webhook/events', { session: admin });
      expect(events.status).toBe(200);
      expect(events.body.map((e: { type: string }) => e.type)).toEqual([
        'apptoken.granted',
        'apptoken.revoked',
        'apptoken.deleted',
        'apptoken.rotated',
        'apptoken.expiring',
        'apptoken.revoked_used',
        'identity.created',
        'identity.deleted',
        'identity.roles_changed',
      ]);
      for (const event of events.body) expect(event.description.length).toBeGreaterThan(10);
      expect((await t.http.get('/api/v1/webhook/abc', { session: admin })).status).toBe(400);
    });

    it.each([
      ['an unknown event', { url: 'http://127.0.0.1:9/x', events: ['apptoken.stolen'] }, 'apptoken.granted'],
      ['no events', { url: 'http://127.0.0.1:9/x', events: [] }, 'events'],
      ['an unknown property', { url: 'http://127.0.0.1:9/x', events: ['*'], secrets: 'x' }, 'secrets'],
      ['a secret without whsec_', { url: 'http://127.0.0.1:9/x', events: ['*'], secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, 'whsec_'],
      ['a short secret', { url: 'http://127.0.0.1:9/x', events: ['*'], secret: 'whsec_c2hvcnQ=' }, '24 to 64 bytes'],
      ['a secret that is not base64', { url: 'http://127.0.0.1:9/x', events: ['*'], secret: 'whsec_!!!!MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, 'base64'],
      ['an ftp URL', { url: 'ftp://127.0.0.1/x', events: ['*'] }, 'http or https'],
      ['credentials in the URL', { url: 'http://user:pw@127.0.0.1:9/x', events: ['*'] }, 'credentials'],
      ['a relative URL', { url: '/hook', events: ['*'] }, 'absolute'],
      ['enabled as a string', { url: 'http://127.0.0.1:9/x', events: ['*'], enabled: 'yes' }, 'enabled'],
    ])('refuses %s with 400', async (_what, body, words) => {
      const response = await t.http.post('/api/v1/webhook', body, { session: admin });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.text).toContain(words);
      if ('secret' in body) expect(response.text).not.toContain((body.secret as string).slice(6));
    });

    it('saves a URL whose name does not resolve yet, and records each attempt as failed while it does not', async () => {
      const hook = await t.http.post('/api/v1/webhook', { url: 'http://no-such-host.invalid/x', events: ['*'] }, { session: admin });
      expect(hook.status).toBe(201);
      await t.http.post(`/api/v1/webhook/${hook.body.id}/test`, undefined, { session: admin });
      const [delivery] = await deliveriesWhen(t.http, admin, hook.body.id, (d) => d[0]?.attempts.length === 1);
      expect(delivery).toMatchObject({ status: 'pending', attempts: [{ statusCode: null, error: expect.stringContaining('no-such-host.invalid does not resolve') }] });
      await t.http.delete(`/api/v1/webhook/${hook.body.id}`, { session: admin });
    });

    it('is for Administrators only', async () => {
      const body = { url: receiver.url('/op'), events: ['*'] };
      for (const [method, path] of [
        ['GET', '/api/v1/webhook'],
        ['GET', '/api/v1/webhook/events'],
        ['POST', '/api/v1/webhook'],
        ['GET', '/api/v1/webhook/1'],
        ['PUT', '/api/v1/webhook/1'],
        ['DELETE', '/api/v1/webhook/1'],
        ['GET', '/api/v1/webhook/1/deliveries'],
        ['POST', '/api/v1/webhook/1/test'],
      ] as const) {
        const withBody = method === 'POST' || method === 'PUT' ? { body } : {};
        expect([method, path, (await t.http.request(method, path, { session: operator, ...withBody })).status]).toEqual([method, path, 403]);
        expect([method, path, (await t.http.request(method, path, withBody)).status]).toEqual([method, path, 401]);
      }
      expect((await sql.query('SELECT count(*)::int AS n FROM webhook')).rows[0].n).toBe(0);
    });

    it('delivers a revoke as a signed Standard Webhooks request without the token value', async () => {
      const hook = await t.http.post('/api/v1/webhook', { url: receiver.url('/revoked'), events: ['apptoken.revoked'], secret: SECRET }, { session: admin });
      expect(hook.status).toBe(201);
      const everything = await t.http.post('/api/v1/webhook', { url: receiver.url('/everything'), events: ['*'] }, { session: admin });
      const elsewhere = await t.http.post('/api/v1/webhook', { url: receiver.url('/identity-only'), events: ['identity.deleted'] }, { session: admin });
      const grant = await t.http.get('/api/v1/apptoken/grant?role=Reader&description=nightly', { session: admin });
      expect(grant.status).toBe(200);
      expect((await t.http.post(`/api/v1/apptoken/${grant.body.id}/revoke`, undefined, { session: admin })).status).toBe(200);

      const [request] = await receiver.requests('/revoked', 1);
      const id = request.headers['webhook-id'] as string;
      const timestamp = request.headers['webhook-timestamp'] as string;
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toMatch(/AppToken/);
      expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(timestamp).toMatch(/^\d+$/);
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
      expect(request.headers['webhook-signature']).toBe(expectedSignature(SECRET, id, timestamp, request.body));

      const event = JSON.parse(request.body);
      expect(Object.keys(event)).toEqual(['type', 'timestamp', 'data']);
      expect(event).toMatchObject({
        type: 'apptoken.revoked',
        data: { token: { id: grant.body.id, identity: { name: 'admin' }, roles: ['Reader'], description: 'nightly', expiration: grant.body.expiration }, reason: 'revoked', by: { name: 'admin' } },
      });
      expect(Date.parse(event.data.token.revokedDate)).toBeGreaterThan(0);
      const jwt: string = grant.body.token;
      for (const part of jwt.split('.')) expect(request.body).not.toContain(part);
      expect(request.body).not.toMatch(/hash|token_sha256/i);

      const [delivery] = await deliveriesWhen(t.http, admin, hook.body.id, (d) => d[0]?.status === 'delivered');
      expect(delivery).toMatchObject({ messageId: id, eventType: 'apptoken.revoked', status: 'delivered', attemptCount: 1, nextAttempt: null, attempts: [{ attempt: 1, statusCode: 204, error: null }] });
      // `*` gets the same message (one webhook-id per event); a webhook that wants other events gets nothing.
      const copy = await receiver.find('/everything', (r) => r.headers['webhook-id'] === id);
      expect(copy.body).toBe(request.body);
      const others = await t.http.get(`/api/v1/webhook/${elsewhere.body.id}/deliveries`, { session: admin });
      expect(others.body).toEqual([]);
      for (const extra of [everything, elsewhere]) await t.http.delete(`/api/v1/webhook/${extra.body.id}`, { session: admin });
    });

    it('retries a delivery the receiver failed with the same webhook-id, and shows both attempts', async () => {
      receiver.script('/flaky', { status: 500, body: 'database is down '.repeat(100) });
      const hook = await t.http.post('/api/v1/webhook', { url: receiver.url('/flaky'), events: ['apptoken.revoked'] }, { session: admin });
      const secret: string = hook.body.secret;
      const test = await t.http.post(`/api/v1/webhook/${hook.body.id}/test`, undefined, { session: admin });
      expect(test.status).toBe(202);

      const [first, second] = await receiver.requests('/flaky', 2);
      expect(first.headers['webhook-id']).toBe(test.body.messageId);
      expect(second.headers['webhook-id']).toBe(test.body.messageId);
      expect(second.body).toBe(first.body);
      for (const request of [first, second]) {
        expect(request.headers['webhook-signature']).toBe(expectedSignature(secret, request.headers['webhook-id'] as string, request.headers['webhook-timestamp'] as string, request.body));
      }
      expect(JSON.parse(first.body)).toMatchObject({ type: 'webhook.test', data: { webhook: { id: hook.body.id } } });

      const [delivery] = await deliveriesWhen(t.http, admin, hook.body.id, (d) => d[0]?.status === 'delivered');
      expect(delivery).toMatchObject({ messageId: test.body.messageId, eventType: 'webhook.test', attemptCount: 2 });
      expect(delivery.attempts).toHaveLength(2);
      expect(delivery.attempts[0]).toMatchObject({ attempt: 1, statusCode: 500, error: null });
      expect(delivery.attempts[0].responseBody).toHaveLength(1024);
      expect(delivery.attempts[0].responseBody.startsWith('database is down')).toBe(true);
      expect(delivery.attempts[1]).toMatchObject({ attempt: 2, statusCode: 204 });
      // The first retry comes about 5 s after the first attempt.
      expect(Date.parse(delivery.attempts[1].at) - Date.parse(delivery.attempts[0].at)).toBeGreaterThanOrEqual(4500);
    });

    it('does not follow a redirect, and a disabled webhook ends its pending deliveries', async () => {
      receiver.script('/moved', { status: 302, headers: { location: receiver.url('/elsewhere') } });
      const hook = await t.http.post('/api/v1/webhook', { url: receiver.url('/moved'), events: ['apptoken.revoked'] }, { session: admin });
      await t.http.post(`/api/v1/webhook/${hook.body.id}/test`, undefined, { session: admin });
      const [delivery] = await deliveriesWhen(t.http, admin, hook.body.id, (d) => d[0]?.attempts.length === 1);
      expect(delivery).toMatchObject({ status: 'pending', attempts: [{ statusCode: 302, error: expect.stringContaining('redirect not followed') }] });
      expect(receiver.received.filter((r) => r.path === '/elsewhere')).toHaveLength(0);

      expect((await t.http.put(`/api/v1/webhook/${hook.body.id}`, { enabled: false }, { session: admin })).status).toBe(200);
      const after = await t.http.get(`/api/v1/webhook/${hook.body.id}/deliveries?status=failed`, { session: admin });
      expect(after.body).toHaveLength(1);
      expect(after.headers.get('x-total-count')).toBe('1');
      expect((await t.http.post(`/api/v1/webhook/${hook.body.id}/test`, undefined, { session: admin })).status).toBe(400);
    });

    it('disables a webhook whose receiver answers 410 Gone, and audits why', async () => {
      receiver.script('/gone', { status: 410 });
      const hook = await t.http.post('/api/v1/webhook', { url: receiver.url('/gone'), events: ['apptoken.revoked'] }, { session: admin });
      await t.http.post(`/api/v1/webhook/${hook.body.id}/test`, undefined, { session: admin });
      const [delivery] = await deliveriesWhen(t.http, admin, hook.body.id, (d) => d[0]?.status === 'failed');
      expect(delivery.attempts).toMatchObject([{ statusCode: 410, error: expect.stringContaining('410 Gone') }]);
      let webhook = await t.http.get(`/api/v1/webhook/${hook.body.id}`, { session: admin });
      for (let i = 0; webhook.body.enabled && i < 50; i++) {
        await sleep(100);
        webhook = await t.http.get(`/api/v1/webhook/${hook.body.id}`, { session: admin });
      }
      expect(webhook.body.enabled).toBe(false);
      const audit = await t.http.get('/api/v1/audit?action=webhook.updated&pageSize=1', { session: admin });
      expect(audit.body[0]).toMatchObject({ actor: null, detail: { webhook: { id: hook.body.id }, enabled: false, reason: 'the receiver answered 410 Gone' } });
    });

    it('gives a receiver that never answers one delivery slot at a time, so other webhooks are still served', async () => {
      const stuck = await t.http.post('/api/v1/webhook', { url: receiver.url('/stuck'), events: ['apptoken.revoked'] }, { session: admin });
      const healthy = await t.http.post('/api/v1/webhook', { url: receiver.url('/healthy'), events: ['apptoken.revoked'] }, { session: admin });
      receiver.script('/stuck', 'hold', 'hold', 'hold', 'hold', 'hold', 'hold');
      try {
        for (let i = 0; i < 6; i++) expect((await t.http.post(`/api/v1/webhook/${stuck.body.id}/test`, undefined, { session: admin })).status).toBe(202);
        await receiver.requests('/stuck', 1);
        const test = await t.http.post(`/api/v1/webhook/${healthy.body.id}/test`, undefined, { session: admin });
        await receiver.find('/healthy', (request) => request.headers['webhook-id'] === test.body.messageId);
        // Served while the stuck receiver still holds its first attempt, which took one slot, not all four.
        expect(receiver.received.filter((request) => request.path === '/stuck')).toHaveLength(1);
      } finally {
        await t.http.delete(`/api/v1/webhook/${stuck.body.id}`, { session: admin });
        await t.http.delete(`/api/v1/webhook/${healthy.body.id}`, { session: admin });
      }
    });

    it('never makes the same attempt twice with two instances on one database (FOR UPDATE SKIP LOCKED)', async () => {
      const other = await startApp({ db: t.db, env: LOOPBACK_ALLOWED });
      try {
        const otherAdmin = await other.http.signin('admin', ADMIN_PASSWORD);
        const hook = await t.http.post('/api/v1/webhook', { url: receiver.url('/pair'), events: ['apptoken.revoked'] }, { session: admin });
        // Ids from 96 on: the page crosses 99 -> 100, where an order by the text of the id goes wrong.
        await sql.query(`SELECT setval(pg_get_serial_sequence('webhook_delivery', 'id'), greatest(95, (SELECT coalesce(max(id), 0) FROM webhook_delivery)))`);
        const sent = await Promise.all(
          Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? t.http.post(`/api/v1/webhook/${hook.body.id}/test`, undefined, { session: admin }) : other.http.post(`/api/v1/webhook/${hook.body.id}/test`, undefined, { session: otherAdmin }))),
        );
        const ids = sent.map((response) => response.body.messageId as string);
        const arrived = await receiver.requests('/pair', 30);
        await deliveriesWhen(t.http, admin, hook.body.id, (d) => d.length === 30 && d.every((x) => x.status === 'delivered'));
        expect(arrived.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort());
        const attempts = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_attempt a JOIN webhook_delivery d ON d.id = a.delivery_id WHERE d.webhook_id = $1', [hook.body.id]);
        expect(attempts.rows[0].n).toBe(30);
        // Newest first, by id as a number.
        const page = await t.http.get(`/api/v1/webhook/${hook.body.id}/deliveries?pageSize=10`, { session: admin });
        const newest = await sql.query<{ id: string }>('SELECT id FROM webhook_delivery WHERE webhook_id = $1 ORDER BY id DESC LIMIT 10', [hook.body.id]);
        expect(page.body.map((delivery: { id: string | number }) => String(delivery.id))).toEqual(newest.rows.map((row) => String(row.id)));
      } finally {
        await other.stop();
      }
    });

    it('purges finished deliveries after WEBHOOK_RETENTION_DAYS, keeps pending ones, and counts attempts in the metrics', async () => {
      const hook = await t.http.post('/api/v1/webhook', { url: receiver.url('/old'), events: ['apptoken.revoked'] }, { session: admin });
      await t.http.post(`/api/v1/webhook/${hook.body.id}/test`, undefined, { session: admin });
      await deliveriesWhen(t.http, admin, hook.body.id, (d) => d[0]?.status === 'delivered');
      await sql.query(`UPDATE webhook_delivery SET completed_at = now() - interval '31 days' WHERE webhook_id = $1`, [hook.body.id]);
      await sql.query(`INSERT INTO webhook_delivery (webhook_id, message_id, event_type, payload, next_attempt_at, created_at) VALUES ($1, 'msg_pending', 'webhook.test', '{}', now() + interval '1 day', now() - interval '40 days')`, [hook.body.id]);
      expect(await t.app.get(WebhookHousekeepingService).run()).toBeGreaterThanOrEqual(1);
      const left = await t.http.get(`/api/v1/webhook/${hook.body.id}/deliveries`, { session: admin });
      expect(left.body.map((d: { messageId: string }) => d.messageId)).toEqual(['msg_pending']);
      await t.http.delete(`/api/v1/webhook/${hook.body.id}`, { session: admin });

      const metrics = await t.http.get('/metrics', { session: admin });
      expect(metrics.status).toBe(200);
      const count = (outcome: string) => Number(new RegExp(`apptoken_webhook_attempts_total\\{outcome="${outcome}"\\} (\\d+)`).exec(metrics.text)?.[1]);
      expect(count('delivered')).toBeGreaterThanOrEqual(5);
      expect(count('retry')).toBeGreaterThanOrEqual(1);
      expect(count('failed')).toBeGreaterThanOrEqual(1);
    });

    it("the README's Node receiver verifies a real delivery, and refuses one signed with another secret", async () => {
      const readme = await readFile('README.md', 'utf8');
      const snippet = /<!-- webhook-receiver-node -->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(snippet).toBeDefined();
      const dir = await mkdtemp(path.join(os.tmpdir(), 'webhook-receiver-'));
      let child: ChildProcess | undefined;
      try {
        await writeFile(path.join(dir, 'receiver.mjs'), snippet!);
        child = spawn(process.execPath, [path.join(dir, 'receiver.mjs')], { env: { ...process.env, WEBHOOK_SECRET: SECRET, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const port = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`the README receiver did not start: ${output}`)), 10000);
          child!.stdout!.on('data', () => {
            const match = /listening on (\d+)/.exec(output);
            if (match) {
              clearTimeout(timer);
              resolve(Number(match[1]));
            }
          });
        });
        const good = await t.http.post('/api/v1/webhook', { url: `http://127.0.0.1:${port}/`, events: ['apptoken.revoked'], secret: SECRET }, { session: admin });
        const test = await t.http.post(`/api/v1/webhook/${good.body.id}/test`, undefined, { session: admin });
        const [delivered] = await deliveriesWhen(t.http, admin, good.body.id, (d) => d[0]?.status === 'delivered');
        expect(delivered.attempts).toMatchObject([{ statusCode: 204 }]);
        expect(output).toContain(`verified ${test.body.messageId} webhook.test`);

        const wrong = await t.http.post('/api/v1/webhook', { url: `http://127.0.0.1:${port}/`, events: ['apptoken.revoked'] }, { session: admin });
        await t.http.post(`/api/v1/webhook/${wrong.body.id}/test`, undefined, { session: admin });
        const [refused] = await deliveriesWhen(t.http, admin, wrong.body.id, (d) => d[0]?.attempts.length === 1);
        expect(refused).toMatchObject({ status: 'pending', attempts: [{ statusCode: 401 }] });
        await t.http.put(`/api/v1/webhook/${wrong.body.id}`, { enabled: false }, { session: admin });
      } finally {
        child?.kill('SIGKILL');
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('SSRF with the default WEBHOOK_ALLOWED_HOSTS (*)', () => {
    let t: TestApp;
    let admin: string;
    beforeAll(async () => {
      t = await startApp();
      admin = await t.http.signin('admin', ADMIN_PASSWORD);
    });
    afterAll(async () => t?.close());

    it.each([
      ['loopback', () => receiver.url('/x'), 'loopback'],
      ['a name that resolves to loopback', () => `http://localhost:${receiver.port}/x`, 'localhost ('],
      ['loopback written short', () => `http://127.1:${receiver.port}/x`, 'loopback'],
      ['loopback written in hex', () => 'http://0x7f000001/x', 'loopback'],
      ['IPv6 loopback', () => 'http://[::1]/x', 'loopback'],
      ['IPv4-mapped loopback', () => 'http://[::ffff:127.0.0.1]/x', 'IPv4-mapped form of loopback'],
      ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
      ['a private address', () => 'https://10.0.0.1/hook', 'private'],
      ['a CGNAT address', () => 'https://100.64.0.1/hook', 'carrier-grade NAT'],
      ['a unique-local address', () => 'https://[fd00::1]/hook', 'unique-local'],
      ['the unspecified address', () => 'http://0.0.0.0:80/', 'unspecified'],
    ])('refuses %s', async (_what, url, words) => {
      const response = await t.http.post('/api/v1/webhook', { url: url(), events: ['*'] }, { session: admin });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.message).toContain('WEBHOOK_ALLOWED_HOSTS');
      expect(response.text).toContain(words);
    });

    it('checks again at delivery: a webhook saved where loopback was allowed is not sent from an instance that refuses it', async () => {
      const allowing = await startApp({ db: t.db, env: LOOPBACK_ALLOWED });
      let id: number;
      try {
        const session = await allowing.http.signin('admin', ADMIN_PASSWORD);
        const hook = await allowing.http.post('/api/v1/webhook', { url: receiver.url('/rechecked'), events: ['*'] }, { session });
        expect(hook.status).toBe(201);
        id = hook.body.id;
      } finally {
        await allowing.stop();
      }
      await t.http.post(`/api/v1/webhook/${id}/test`, undefined, { session: admin });
      const [delivery] = await deliveriesWhen(t.http, admin, id, (d) => d[0]?.attempts.length === 1);
      expect(delivery.attempts[0]).toMatchObject({ statusCode: null, error: expect.stringContaining('loopback') });
      expect(receiver.received.filter((r) => r.path === '/rechecked')).toHaveLength(0);
      await t.http.put(`/api/v1/webhook/${id}`, { enabled: false }, { session: admin });
    });
  });

  describe('a process killed between the change and the delivery', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterEach(() => killAll());
    afterAll(async () => db?.drop());

    const start = (): Promise<RunningServer> =>
      startServer({ DATABASE_URL: db.url, JWT_SIGNING_KEY: TEST_SIGNING_KEY, ADMIN_PASSWORD, LOG_LEVEL: 'warn', ...LOOPBACK_ALLOWED, WEBHOOK_TIMEOUT_SECONDS: '2' });

    it('delivers after a restart, with the same webhook-id (SIGKILL while the receiver holds the first attempt)', async () => {
      receiver.script('/killed', 'hold');
      const first = await start();
      const client = new HttpClient(first.baseUrl);
      const session = await client.signin('admin', ADMIN_PASSWORD);
      const hook = await client.post('/api/v1/webhook', { url: receiver.url('/killed'), events: ['apptoken.revoked'], secret: SECRET }, { session });
      expect(hook.status).toBe(201);
      const grant = await client.get('/api/v1/apptoken/grant?role=Reader', { session });
      expect((await client.post(`/api/v1/apptoken/${grant.body.id}/revoke`, undefined, { session })).status).toBe(200);

      const [held] = await receiver.requests('/killed', 1);
      const exited = new Promise((resolve) => first.child.once('exit', resolve));
      first.child.kill('SIGKILL');
      await exited;

      const second = await start();
      const [, again] = await receiver.requests('/killed', 2, 60000);
      expect(again.headers['webhook-id']).toBe(held.headers['webhook-id']);
      expect(again.body).toBe(held.body);
      expect(again.headers['webhook-signature']).toBe(expectedSignature(SECRET, again.headers['webhook-id'] as string, again.headers['webhook-timestamp'] as string, again.body));
      expect(JSON.parse(again.body)).toMatchObject({ type: 'apptoken.revoked', data: { token: { id: grant.body.id } } });

      const secondClient = new HttpClient(second.baseUrl);
      const secondSession = await secondClient.signin('admin', ADMIN_PASSWORD);
      const [delivery] = await deliveriesWhen(secondClient, secondSession, hook.body.id, (d) => d[0]?.status === 'delivered');
      // The killed attempt left no record but counts; the one after the restart delivered.
      expect(delivery).toMatchObject({ messageId: held.headers['webhook-id'], attemptCount: 2, attempts: [{ attempt: 2, statusCode: 204 }] });
      expect(await second.stop()).toBe(0);
    });
  });
});
