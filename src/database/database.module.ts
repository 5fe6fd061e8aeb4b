import { Global, Logger, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database-runtime.js';
import { InvalidationService } from './invalidation.service.js';
import { runMigrations } from './migrate.js';
import { Outbox } from './outbox.js';
import { SqlPool } from './sql-pool.js';
import { UnitOfWork } from './unit-of-work.js';

/** Connection errors no retry can fix: no such database, bad credentials, no permission. */
const PERMANENT_CONNECT_ERRORS = new Set(['3D000', '28P01', '28000', '42501']);

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  embedded: boolean;
  /** Connection attempts after the first (default 10, 2 s apart, for a server still starting); the CLI takes none. */
  retryAttempts?: number;
}

/** TypeORM on `pg`; the schema comes only from committed migrations, applied before anything uses the database. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions(options.url, options.poolSize),
            // A server still starting (compose, a restart) is waited for; a wrong database or password is not.
            retryAttempts: options.retryAttempts ?? 10,
            retryDelay: 2000,
            toRetry: (error: unknown) => !PERMANENT_CONNECT_ERRORS.has((error as { code?: string })?.code ?? ''),
          }),
          dataSourceFactory: async (dataSourceOptions) => {
            const dataSource = await new DataSource(dataSourceOptions!).initialize();
            const applied = await runMigrations(dataSource, { lock: !options.embedded });
            if (applied.length > 0) new Logger('Database').log(`applied migrations: ${applied.join(', ')}`);
            return dataSource;
          },
        }),
      ],
      providers: [{ provide: DATABASE_RUNTIME, useValue: { url: options.url, embedded: options.embedded } satisfies DatabaseRuntime }, InvalidationService, UnitOfWork, SqlPool, Outbox],
      exports: [DATABASE_RUNTIME, InvalidationService, UnitOfWork, SqlPool, Outbox],
    };
  }
}
