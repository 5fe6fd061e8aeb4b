import { Logger } from '@nestjs/common';
import type { DataSourceOptions, Logger as TypeOrmLogger } from 'typeorm';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';

/** Logs failures without query parameters: those can hold password or token hashes. */
class QuietTypeOrmLogger implements TypeOrmLogger {
  private readonly logger = new Logger('Database');
  logQuery(): void {}
  logQueryError(error: string | Error, query: string): void {
    // Constraint violations become 409s and 422s: expected answers, not faults.
    const code = (error as { code?: string }).code;
    if (code === '23505' || code === '23503') {
      this.logger.debug(`constraint ${code}: ${(error as Error).message}`);
      return;
    }
    this.logger.error(`query failed: ${error instanceof Error ? error.message : error} (${query.slice(0, 200)})`);
  }
  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`slow query (${time} ms): ${query.slice(0, 200)}`);
  }
  logSchemaBuild(): void {}
  logMigration(message: string): void {
    this.logger.log(message);
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
  }
}

export function dataSourceOptions(url: string, poolSize: number): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logger: new QuietTypeOrmLogger(),
    maxQueryExecutionTime: 1000,
    applicationName: 'apptoken-server',
    poolSize,
    extra: {
      connectionTimeoutMillis: 5000,
      // A dead server must not hang requests forever; readiness reports it instead.
      query_timeout: 15000,
    },
  };
}
