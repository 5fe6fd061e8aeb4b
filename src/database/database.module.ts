import { Global, Logger, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database-runtime.js';
import { InvalidationService } from './invalidation.service.js';
import { runMigrations } from './migrate.js';

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  embedded: boolean;
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
          useFactory: () => dataSourceOptions(options.url, options.poolSize),
          dataSourceFactory: async (dataSourceOptions) => {
            const dataSource = await new DataSource(dataSourceOptions!).initialize();
            const applied = await runMigrations(dataSource);
            if (applied.length > 0) new Logger('Database').log(`applied migrations: ${applied.join(', ')}`);
            return dataSource;
          },
        }),
      ],
      providers: [{ provide: DATABASE_RUNTIME, useValue: { url: options.url, embedded: options.embedded } satisfies DatabaseRuntime }, InvalidationService],
      exports: [DATABASE_RUNTIME, InvalidationService],
    };
  }
}
