import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database-runtime.js';

/** A fixed statement of a hot path: its name (unique in the process) and its text. */
export interface Statement {
  name: string;
  text: string;
}

/**
 * Fixed statements of hot paths, sent to `pg` directly as named prepared statements: each connection parses and
 * plans one once instead of at every call (the database's CPU shares this machine's cores), and TypeORM's query
 * runner (created, connected and released per call) is skipped. Measured on an uncached Bearer request (issue 10).
 * On embedded PGlite every pool connection is one backend: a name prepared by one connection would collide with
 * another's Parse, so statements are sent unnamed there.
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

  private config(statement: Statement, values: unknown[]): pg.QueryConfig {
    return this.named ? { name: statement.name, text: statement.text, values } : { text: statement.text, values };
  }
}
