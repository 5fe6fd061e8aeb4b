import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { PasswordService } from '../auth/password.service.js';
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../auth/password.service.js';
import { ConfigError, loadConfig, type AppConfig } from '../config/app-config.js';
import { ConfigModule } from '../config/config.module.js';
import { dataSourceOptions } from '../database/data-source-options.js';
import { DatabaseModule } from '../database/database.module.js';
import { EmbeddedDatabaseInUseError } from '../database/embedded-postgres.js';
import { runMigrations } from '../database/migrate.js';
import { AdminPasswordReset } from '../identity/admin-password-reset.service.js';
import { prepareRuntime, type Runtime } from '../runtime.js';
import { CliError } from './errors.js';

/** Nest's and TypeORM's own messages: warnings and errors only, on stderr, so stdout stays the command's. */
const LOG_LEVELS = ['error', 'warn'] as const;

/**
 * One connection attempt (5 s at most) before anything else: an unreachable or refusing database is one
 * DATABASE_UNREACHABLE line, not the server's 10 retries with Nest's error blocks (the CLI is interactive).
 * The URL is not echoed (it may hold a password): its host and port are.
 */
export async function reachDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    let where = 'the database';
    try {
      const parsed = new URL(url);
      where = `PostgreSQL at ${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
    } catch {
      // Not a URL pg could read either: the message says so.
    }
    const err = error as { code?: string; message?: string };
    const reason = [err.code, err.message].filter(Boolean).join(' ') || 'no answer';
    throw new CliError(`cannot connect to ${where} (${reason}): is it running, and is DATABASE_URL right?`, 'DATABASE_UNREACHABLE');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server's configuration, read the way the server reads it (.env in the working directory, then the environment). */
export function localConfig(): AppConfig {
  try {
    if (existsSync('.env')) process.loadEnvFile('.env');
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError || (error as NodeJS.ErrnoException).code === 'ERR_INVALID_ARG_VALUE') {
      throw new CliError((error as Error).message, 'CONFIG_ERROR');
    }
    throw error;
  }
}

/**
 * The server's database: DATABASE_URL, else the embedded one in DATA_DIR, which only one process may open at a
 * time (its lock file): while a server holds it, refused with what to do instead.
 */
export async function openRuntime(config: AppConfig, options: { existing: boolean }): Promise<Runtime> {
  // Run from the wrong folder, DATA_DIR (./data) would otherwise become a new, empty database.
  if (options.existing && config.databaseUrl === undefined && !existsSync(path.join(config.dataDir, 'pgdata'))) {
    throw new CliError(
      `there is no embedded database in ${path.resolve(config.dataDir)}: run this where the server runs, or set DATA_DIR (or DATABASE_URL) as the server has it`,
      'NO_DATABASE',
    );
  }
  try {
    return await prepareRuntime(config);
  } catch (error) {
    if (error instanceof EmbeddedDatabaseInUseError) {
      const where = error.host === undefined || error.host === hostname() ? `process ${error.pid}` : `process ${error.pid} on host ${error.host}`;
      throw new CliError(
        `the embedded database in ${error.dataDir} is in use by a running AppToken Server (${where}). ` +
          'Stop the server first, or do this through its API (apptoken login); ' +
          `if no AppToken Server uses it, delete ${error.lockFile}`,
        'DATA_DIR_IN_USE',
      );
    }
    throw error;
  }
}

/** Applies the pending migrations; the names of those applied. */
export async function migrate(options: { create: boolean }): Promise<{ applied: string[]; database: string }> {
  const config = localConfig();
  const runtime = await openRuntime(config, { existing: !options.create });
  Logger.overrideLogger([...LOG_LEVELS]);
  try {
    if (runtime.embedded === undefined) await reachDatabase(runtime.databaseUrl);
    // Two connections: the migration lock holds one while the migrations run on the other.
    const dataSource = await new DataSource(dataSourceOptions(runtime.databaseUrl, 2)).initialize();
    try {
      const applied = await runMigrations(dataSource, { lock: runtime.embedded === undefined });
      return { applied, database: describe(config, runtime) };
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await runtime.embedded?.stop();
  }
}

@Module({ providers: [PasswordService, AdminPasswordReset] })
class PasswordResetModule {}

/**
 * Resets a password in a Nest application context holding only what that needs (configuration, database with its
 * migrations, audit, passwords); undefined when no such identity exists.
 */
export async function resetPassword(name: string, password: string, generated: boolean): Promise<{ id: number; name: string } | undefined> {
  const config = localConfig();
  const runtime = await openRuntime(config, { existing: true });
  try {
    if (runtime.embedded === undefined) await reachDatabase(runtime.databaseUrl);
    const app = await NestFactory.createApplicationContext(
      {
        module: class CliRoot {},
        imports: [
          ConfigModule.forRoot(runtime.config),
          DatabaseModule.forRoot({ url: runtime.databaseUrl, poolSize: 2, embedded: runtime.embedded !== undefined, retryAttempts: 0 }),
          AuditModule,
          PasswordResetModule,
        ],
      },
      // Errors reach the command as exceptions (one "error:" line); Nest's own error blocks with stacks would repeat them.
      { logger: ['warn'], abortOnError: false },
    );
    try {
      const identity = await app.get(AdminPasswordReset).reset(name, password, generated);
      return identity && { id: identity.id, name: identity.name };
    } finally {
      await app.close();
    }
  } finally {
    await runtime.embedded?.stop();
  }
}

function describe(config: AppConfig, runtime: Runtime): string {
  return runtime.embedded ? `embedded PostgreSQL in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)';
}
