import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';

describe('roles', () => {
  let t: TestApp;
  let admin: string;
  let reader: string;
  let operator: string;

  beforeAll(async () => {
    t = await startApp();
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
    await t.http.post('/api/v1/identity', { name: 'reader1', password: 'reader1-password', roles: ['Reader'] }, { session: admin });
    await t.http.post('/api/v1/identity', { name: 'operator1', password: 'operator1-password', roles: ['Operator'] }, { session: admin });
    reader = await t.http.signin('reader1', 'reader1-password');
    operator = await t.http.signin('operator1', 'operator1-password');
  });
  afterAll(async () => t?.close());

  it('lists the three built-in roles to anyone signed in', async () => {
    const list = await t.http.get('/api/v1/role', { session: reader });
    expect(list.status).toBe(200);
    expect(list.body.map((r: any) => [r.name, r.builtin])).toEqual([
      ['Administrator', true],
      ['Operator', true],
      ['Reader', true],
    ]);
    expect((await t.http.get('/api/v1/role')).status).toBe(401);
  });

  it('refuses to change or delete a built-in role (409), even by case-folded name', async () => {
    for (const name of ['Administrator', 'operator', 'READER']) {
      expect((await t.http.put(`/api/v1/role/${name}`, { description: 'mine now' }, { session: admin })).status).toBe(409);
      const del = await t.http.delete(`/api/v1/role/${name}`, { session: admin });
      expect(del.status).toBe(409);
      expect(del.body.message).toMatch(/built-in role .* cannot be deleted/);
    }
  });

  it('creates, renames, describes and deletes a custom role', async () => {
    const created = await t.http.post('/api/v1/role', { Name: 'Payroll', Description: 'Calls the payroll API' }, { session: admin });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Payroll', description: 'Calls the payroll API', builtin: false });
    expect((await t.http.get('/api/v1/role/payroll', { session: reader })).body.name).toBe('Payroll');
    const renamed = await t.http.put('/api/v1/role/Payroll', { name: 'Payroll Admins' }, { session: admin });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Payroll Admins', description: 'Calls the payroll API' });
    const described = await t.http.patch('/api/v1/role/Payroll%20Admins', { description: 'Runs payroll' }, { session: admin });
    expect(described.body.description).toBe('Runs payroll');
    // Identities holding a role see its new name; deleting it removes it from them.
    const holder = await t.http.post('/api/v1/identity', { name: 'payroller', password: 'payroller-pass', roles: ['Payroll Admins', 'Reader'] }, { session: admin });
    expect(holder.body.roles).toEqual(['Reader', 'Payroll Admins']);
    expect((await t.http.delete('/api/v1/role/Payroll%20Admins', { session: admin })).status).toBe(204);
    expect((await t.http.get(`/api/v1/identity/${holder.body.id}`, { session: admin })).body.roles).toEqual(['Reader']);
    expect((await t.http.get('/api/v1/role/Payroll%20Admins', { session: admin })).status).toBe(404);
    const events = await t.http.get('/api/v1/audit?action=role.', { session: admin });
    expect(events.body.map((e: any) => e.action)).toEqual(['role.deleted', 'role.updated', 'role.updated', 'role.created']);
  });

  it.each([
    ['administrator', 'case'],
    ['ＡＤＭＩＮＩＳＴＲＡＴＯＲ', 'full-width letters (NFKC)'],
    ['Аdministrator', 'a Cyrillic А'],
    ['Αdmιnιstrator', 'Greek letters'],
    ['Admin1strator', 'a digit one for an i'],
    ['AdmInIstrat0r', 'zero for o'],
    ['Adminístrator', 'an accent'],
    ['Opera tor', 'an inner space'],
    ['Reader_', 'a trailing separator'],
    // Look-alikes the hand-made map missed; Unicode's confusables (UTS #39) catch them.
    ['Administratօr', 'an Armenian օ'],
    ['Adrninistrator', 'r + n for m'],
    ['Administrat0r', 'zero for o'],
    ['ADMIN ISTRATOR', 'capitals and an inner space'],
    ['Ꭺdministrator', 'a Cherokee Ꭺ'],
    ['𝐀𝐝𝐦𝐢𝐧𝐢𝐬𝐭𝐫𝐚𝐭𝐨𝐫', 'mathematical bold letters'],
    ['Rеаdеr', 'Cyrillic е and а'],
    ['0perator', 'zero for O'],
  ])('refuses %s, a look-alike of a built-in (%s), with 409', async (name) => {
    const response = await t.http.post('/api/v1/role', { name }, { session: admin });
    expect(response.status).toBe(409);
    expect(response.body.message).toMatch(/imitates the built-in role/);
  });

  it('refuses a custom role that looks like another custom role (409)', async () => {
    expect((await t.http.post('/api/v1/role', { name: 'Deploy' }, { session: admin })).status).toBe(201);
    expect((await t.http.post('/api/v1/role', { name: 'DEPLOY' }, { session: admin })).status).toBe(409);
    expect((await t.http.post('/api/v1/role', { name: 'Dep1oy' }, { session: admin })).status).toBe(409);
    expect((await t.http.post('/api/v1/role', { name: 'Other' }, { session: admin })).status).toBe(201);
    expect((await t.http.put('/api/v1/role/Other', { name: 'deploy' }, { session: admin })).status).toBe(409);
  });

  it('refuses malformed names with 400: commas, control characters, zero-width characters, too long', async () => {
    for (const name of ['A,B', 'bad\u0007bell', 'zero\u200Bwidth', '', ' ', 'x'.repeat(65), '-leading']) {
      const response = await t.http.post('/api/v1/role', { name }, { session: admin });
      expect(response.status).toBe(400);
    }
  });

  it('lets only Administrators write roles (Reader and Operator get 403)', async () => {
    for (const session of [reader, operator]) {
      expect((await t.http.post('/api/v1/role', { name: 'Mine' }, { session })).status).toBe(403);
      expect((await t.http.put('/api/v1/role/Deploy', { description: 'x' }, { session })).status).toBe(403);
      expect((await t.http.patch('/api/v1/role/Deploy', { description: 'x' }, { session })).status).toBe(403);
      expect((await t.http.delete('/api/v1/role/Deploy', { session })).status).toBe(403);
      expect((await t.http.get('/api/v1/role/Deploy', { session })).status).toBe(200);
    }
  });
});
