import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';

interface Event {
  id: number;
  at: string;
  action: string;
  actor: { id: number | null; name: string | null } | null;
}

describe('audit log filters: actor and until', () => {
  let t: TestApp;
  let admin: string;
  let operatorId: number;

  const list = async (query: string): Promise<Event[]> => {
    const response = await t.http.get(`/api/v1/audit?pageSize=500&${query}`, { session: admin });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('x-total-count'))).toBe(response.body.length);
    return response.body as Event[];
  };

  beforeAll(async () => {
    t = await startApp();
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    const created = await t.http.post('/api/v1/identity', { name: 'Auditee', password: 'auditee-password', roles: ['Operator'] }, { session: admin });
    operatorId = created.body.id;
    const operator = await t.http.signin('auditee', 'auditee-password');
    expect((await t.http.get('/api/v1/apptoken/grant?description=by-auditee', { session: operator })).status).toBe(200);
  });
  afterAll(async () => t?.close());

  it('finds what one identity did, by id or by name in any case, and nothing done by others', async () => {
    const byName = await list('actor=auditee');
    expect(byName.map((e) => e.action)).toEqual(['apptoken.granted', 'signin.succeeded']);
    expect(byName.every((e) => e.actor?.id === operatorId)).toBe(true);
    expect((await list('actor=AUDITEE')).map((e) => e.id)).toEqual(byName.map((e) => e.id));
    expect((await list(`actor=${operatorId}`)).map((e) => e.id)).toEqual(byName.map((e) => e.id));
    // Combined with the other filters.
    expect((await list('actor=auditee&action=apptoken.')).map((e) => e.action)).toEqual(['apptoken.granted']);

    const byAdmin = await list('actor=admin');
    expect(byAdmin.map((e) => e.action)).toEqual(expect.arrayContaining(['identity.created', 'signin.succeeded']));
    expect(byAdmin.every((e) => e.actor?.name === 'admin')).toBe(true);
    expect(await list('actor=nobody-by-this-name')).toEqual([]);
  });

  it('still finds a deleted identity\'s events by the name recorded at the time', async () => {
    const other = await t.http.post('/api/v1/identity', { name: 'Leaver', password: 'leaver-password', roles: ['Reader'] }, { session: admin });
    await t.http.signin('leaver', 'leaver-password');
    expect((await t.http.delete(`/api/v1/identity/${other.body.id}`, { session: admin })).status).toBe(204);
    expect((await list('actor=leaver')).map((e) => e.action)).toEqual(['signin.succeeded']);
  });

  it('keeps events at or before `until`, and with `since` gives a window', async () => {
    const all = await list('');
    const middle = all[Math.floor(all.length / 2)];
    const until = await list(`until=${encodeURIComponent(middle.at)}`);
    expect(until.map((e) => e.id)).toContain(middle.id);
    expect(until.every((e) => e.at <= middle.at)).toBe(true);
    expect(until.length).toBeLessThan(all.length);
    const before = new Date(Date.parse(middle.at) - 1).toISOString();
    expect((await list(`until=${encodeURIComponent(before)}`)).every((e) => e.at < middle.at)).toBe(true);
    const window = await list(`since=${encodeURIComponent(middle.at)}&until=${encodeURIComponent(middle.at)}`);
    expect(window.map((e) => e.id)).toContain(middle.id);
    expect(window.every((e) => e.at === middle.at)).toBe(true);
  });

  it('refuses an invalid until, a window that ends before it starts, and an actor no identity could be called', async () => {
    for (const query of ['until=yesterday', 'until=2030-02-30T00:00:00Z', 'since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z', 'actor=%01x', `actor=${'a'.repeat(257)}`, 'actor=%20admin']) {
      const response = await t.http.get(`/api/v1/audit?${query}`, { session: admin });
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(query.includes('actor') ? /actor/ : /until/);
      expect(response.body.message).not.toMatch(/should not exist/);
    }
  });

  it('is for Administrators only', async () => {
    const operator = await t.http.signin('auditee', 'auditee-password');
    expect((await t.http.get('/api/v1/audit?actor=auditee', { session: operator })).status).toBe(403);
  });
});
