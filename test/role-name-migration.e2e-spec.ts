import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { QueryRunner } from 'typeorm';
import { RoleNameSkeletons1795921055500 } from '../src/database/migrations/1795921055500-RoleNameSkeletons.js';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { connect } from './support/database.js';

/** An installation from before the UTS #39 keys, upgraded: stored keys are recomputed, look-alikes renamed. */
describe('migration RoleNameSkeletons on a database with roles of the old folding', () => {
  let t: TestApp;
  let sql: pg.Client;
  let session: string;
  const migration = new RoleNameSkeletons1795921055500();
  // The migration only sends SQL; a pg client stands in for TypeORM's QueryRunner.
  const runner = () => ({ query: async (text: string, parameters?: unknown[]) => (await sql.query(text, parameters)).rows }) as unknown as QueryRunner;
  const roles = async () => (await sql.query('SELECT name, name_key, builtin FROM role ORDER BY id')).rows;

  beforeAll(async () => {
    t = await startApp();
    sql = await connect(t.db.url);
    session = await t.http.signin('admin', ADMIN_PASSWORD);
    // Back to the schema and keys of before, with roles the old hand-made map let in.
    await migration.down(runner());
    await sql.query(`INSERT INTO role (name, name_key, description, builtin) VALUES
      ('Payments', 'payments', '', false),
      ('Administratօr', 'administratօr', 'Armenian o', false),
      ('Adrninistrator', 'adrninistrator', 'r + n', false)`);
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
  });

  it('down restores the old keys and column, for a rollback', async () => {
    expect((await roles()).slice(0, 3)).toEqual([
      { name: 'Administrator', name_key: 'administrator', builtin: true },
      { name: 'Operator', name_key: 'operator', builtin: true },
      { name: 'Reader', name_key: 'reader', builtin: true },
    ]);
    const [{ length }] = (await sql.query(`SELECT character_maximum_length AS length FROM information_schema.columns WHERE table_name = 'role' AND column_name = 'name_key'`)).rows;
    expect(length).toBe(64);
  });

  it('up recomputes every key, keeps ordinary custom roles reachable by name, and renames look-alikes of older roles', async () => {
    await migration.up(runner());
    expect(await roles()).toEqual([
      { name: 'Administrator', name_key: 'adrninistrator', builtin: true },
      { name: 'Operator', name_key: 'operator', builtin: true },
      { name: 'Reader', name_key: 'reader', builtin: true },
      { name: 'Payments', name_key: 'payrnents', builtin: false },
      { name: expect.stringMatching(/^Administratօr lookalike \d+$/), name_key: expect.stringMatching(/^adrninistratoriookaiike\d+$/), builtin: false },
      { name: expect.stringMatching(/^Adrninistrator lookalike \d+$/), name_key: expect.stringMatching(/^adrninistratoriookaiike\d+$/), builtin: false },
    ]);
    expect((await t.http.get('/api/v1/role/Payments', { session })).body.name).toBe('Payments');
    // The look-alike names now lead to the built-in role, which cannot be changed.
    expect((await t.http.get(`/api/v1/role/${encodeURIComponent('Administratօr')}`, { session })).body).toMatchObject({ name: 'Administrator', builtin: true });
    expect((await t.http.put(`/api/v1/role/${encodeURIComponent('Adrninistrator')}`, { description: 'mine' }, { session })).status).toBe(409);
  });
});
