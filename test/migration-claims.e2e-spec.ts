import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { connect } from './support/database.js';
import { mintPsuToken } from './support/tokens.js';

/** Migration trusts neither folded role names nor names POST /api/v1/identity would refuse (issue 7, item 6). */
describe('migration checks the claims it would write', () => {
  let t: TestApp;
  let sql: pg.Client;
  let admin: string;

  const counts = async () =>
    (await sql.query('SELECT (SELECT count(*)::int FROM app_token) AS tokens, (SELECT count(*)::int FROM identity) AS identities, (SELECT count(*)::int FROM identity_role) AS grants')).rows[0];
  const migrate = (name: string, roles: string[]) =>
    // Identity.Name in its composed form: the body's own limit (256) is not what is tested here.
    t.http.post('/api/v1/apptoken', { Token: mintPsuToken({ name, roles }, TEST_SIGNING_KEY), Identity: { Name: name.normalize('NFC') }, Role: roles }, { session: admin });

  beforeAll(async () => {
    t = await startApp();
    sql = await connect(t.db.url);
    admin = await t.http.signin('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  it.each([
    ['a zero for an o', 'Administrat0r'],
    ['a Cyrillic А', '\u0410dministrator'],
    ['a space inside', 'ADMIN ISTRATOR'],
    ['full-width letters', '\uFF21dministrator'],
    ['an accent', 'Àdministrator'],
  ])('refuses a role claim with %s (422), creating nothing', async (_what, role) => {
    const before = await counts();
    const response = await migrate('mallory', [role]);
    expect(response.status).toBe(422);
    expect(response.body.message).toMatch(/does not exist here/);
    expect(await counts()).toEqual(before);
  });

  it('accepts a role claim that differs from the role only in letter case', async () => {
    const response = await migrate('case-bot', ['aDMINISTRATOR']);
    expect(response.status).toBe(201);
    expect(response.body.roles).toEqual(['Administrator']);
  });

  it.each([
    ['a CR/LF', 'evil\r\nadmin'],
    ['a zero-width space', 'ad\u200Bmin'],
    ['a leading space', ' padded'],
    ['300 characters (150 once composed)', 'e\u0301'.repeat(150)],
  ])('refuses a name claim with %s (422), as POST /api/v1/identity would', async (_what, name) => {
    const before = await counts();
    const response = await migrate(name, ['Reader']);
    expect(response.status).toBe(422);
    expect(response.body.message).toMatch(/not a valid identity name/);
    expect(await counts()).toEqual(before);
  });

  it('refuses a name claim with a NUL: the body naming it is refused first (400), and nothing is created', async () => {
    const before = await counts();
    const response = await migrate('nul\u0000name', ['Reader']);
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/control character/);
    expect(await counts()).toEqual(before);
  });
});
