import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database-runtime.js';

/** A fixed statement of a hot path: its name (unique in the process) and its text. */
export interface Statement {
  name: string;
  text: string;
}

/**
 * Fixed statements of hot paths, sent to `pg` directly as named prepared statements: each connection parses and
 * plans one once instead of at every call (the database's CPU shares this machine's cores), and outside a
 * transaction TypeORM's query runner (created, connected and released per call) is skipped too. Measured on an
 * uncached Bearer request and on grants (issue 10). On embedded PGlite every pool connection is one backend: a
 * name prepared by one connection would collide with another's Parse, so statements are sent unnamed there.
 */
@Injectable()
export class SqlPool {
  private readonly named: boolean;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(DATABASE_RUNTIME) runtime: DatabaseRuntime,
  ) {
    this.named = !runtime.embedded;
  }

  /** On a connection of the pool, outside any transaction. */
  async rows<R extends pg.QueryResultRow>(statement: Statement, values: unknown[]): Promise<R[]> {
    const pool = (this.dataSource.driver as unknown as { master: pg.Pool }).master;
    const result = await pool.query<R>(this.config(statement, values));
    return result.rows;
  }

  /**
   * On the connection of `manager`'s transaction (a unit of work's). Failures are TypeORM's QueryFailedError, as
   * `manager.query` throws them, so constraint violations keep their answers (common/database-errors.ts).
   */
  async rowsIn<R extends pg.QueryResultRow>(manager: EntityManager, statement: Statement, values: unknown[]): Promise<R[]> {
    const runner = manager.queryRunner;
    if (!runner) throw new Error('rowsIn() needs the manager of a transaction');
    const client = (await runner.connect()) as pg.PoolClient;
    try {
      return (await client.query<R>(this.config(statement, values))).rows;
    } catch (error) {
      throw new QueryFailedError(statement.text, values, error as Error);
    }
  }

  private config(statement: Statement, values: unknown[]): pg.QueryConfig {
    return this.named ? { name: statement.name, text: statement.text, values } : { text: statement.text, values };
  }
}
