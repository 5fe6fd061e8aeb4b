import type { DataSource } from 'typeorm';

/** Arbitrary constant: instances starting together take turns running migrations. */
const MIGRATION_LOCK_KEY = 5_000_421_337;

/** Runs pending migrations under a PostgreSQL advisory lock, each in its own transaction. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}
