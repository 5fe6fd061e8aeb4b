import pg from 'pg';

/** Decides once where e2e databases live, and says so. Self-contained: jest loads it outside the module mapper. */
export default async function globalSetup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redacted = url.replace(/\/\/([^:@/]*):[^@]*@/, '//$1:***@');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  let answers: boolean;
  try {
    await client.connect();
    await client.query('SELECT 1');
    answers = true;
  } catch {
    answers = false;
  } finally {
    await client.end().catch(() => undefined);
  }
  if (answers) {
    process.env.APPTOKEN_E2E_DATABASE = 'server';
    process.stdout.write(`\ne2e: PostgreSQL at ${redacted}; each test file gets its own new database\n`);
  } else {
    process.env.APPTOKEN_E2E_DATABASE = 'embedded';
    process.stdout.write(
      `\ne2e: NO PostgreSQL answered at ${redacted}; running the e2e specs on embedded PGlite instead ` +
        '(start PostgreSQL or set TEST_DATABASE_URL to test against a real server)\n',
    );
  }
}
