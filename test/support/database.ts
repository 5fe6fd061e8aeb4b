import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Set by global-setup: 'server' when TEST_DATABASE_URL answered, else 'embedded'. */
export function databaseMode(): 'server' | 'embedded' {
  return process.env.APPTOKEN_E2E_DATABASE === 'embedded' ? 'embedded' : 'server';
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database for one test file: on the PostgreSQL server, or an in-memory PGlite. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (databaseMode() === 'embedded') {
    const embedded = await EmbeddedPostgres.start(undefined);
    return { url: embedded.url, name: 'postgres', drop: () => embedded.stop() };
  }
  const name = `apptoken_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A direct connection for assertions on what the service wrote. */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}
