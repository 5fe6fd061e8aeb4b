import pg from 'pg';
import { TEST_DATABASE_URL, type TestDatabase } from './database.js';

/**
 * A database outage for one test database on the PostgreSQL server: it refuses new connections and its open
 * ones are ended, until `end()`. (The embedded fallback has no server to close: callers skip there.)
 */
export class DatabaseOutage {
  private constructor(
    private readonly admin: pg.Client,
    private readonly name: string,
  ) {}

  static async of(db: TestDatabase): Promise<DatabaseOutage> {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    return new DatabaseOutage(admin, db.name);
  }

  /** New connections are refused; the open ones go on. */
  async refuseConnections(): Promise<void> {
    await this.admin.query(`ALTER DATABASE "${this.name}" ALLOW_CONNECTIONS false`);
  }

  /** Ends the database's open connections (those of one application name only, when given); how many. */
  async terminate(applicationName?: string): Promise<number> {
    const result = applicationName === undefined
      ? await this.admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [this.name])
      : await this.admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [this.name, applicationName]);
    return result.rowCount ?? 0;
  }

  /** How many connections the database has from one application name. */
  async connections(applicationName: string): Promise<number> {
    const result = await this.admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [this.name, applicationName]);
    return result.rows[0].n as number;
  }

  /** The whole outage: no new connections, and the open ones ended. */
  async begin(): Promise<void> {
    await this.refuseConnections();
    await this.terminate();
  }

  /** The database takes connections again. */
  async end(): Promise<void> {
    await this.admin.query(`ALTER DATABASE "${this.name}" ALLOW_CONNECTIONS true`);
  }

  /** Ends the outage if one is on, and its own connection (for afterAll). */
  async dispose(): Promise<void> {
    await this.end().catch(() => undefined);
    await this.admin.end();
  }
}
