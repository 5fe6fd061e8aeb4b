import type { DataSource } from 'typeorm';
import { MIGRATION_LOCK } from './locks.js';

/**
 * Runs pending migrations, each in its own transaction, under a PostgreSQL advisory lock so instances
 * starting together take turns. Embedded PGlite has one process (its lock file) and one connection: no lock.
 */
export async function runMigrations(dataSource: DataSource, options: { lock: boolean } = { lock: true }): Promise<string[]> {
  if (!options.lock) return (await dataSource.runMigrations({ transaction: 'each' })).map((migration) => migration.name);
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
  }
}
