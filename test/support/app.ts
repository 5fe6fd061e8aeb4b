import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import { EMBEDDED_POOL_SIZE } from '../../src/database/embedded-postgres.js';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { createTestDatabase, databaseMode, type TestDatabase } from './database.js';
import { HttpClient } from './http.js';

export const TEST_SIGNING_KEY = 'test-signing-key-0123456789abcdef0123456789';
export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  baseUrl: string;
  db: TestDatabase;
  http: HttpClient;
  /** Closes the app; the database stays (for a second instance or a restart). */
  stop(): Promise<void>;
  /** Closes the app and drops its database. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Environment variables on top of the test defaults. */
  env?: Record<string, string>;
  /** Reuse a database (second instance, restart) instead of creating one. */
  db?: TestDatabase;
  /** Reach the database through another URL (a proxy in front of it). */
  databaseUrl?: string;
}

/** Boots the real AppModule over HTTP on a loopback port, on its own fresh database with migrations applied. */
export async function startApp(options: StartOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const databaseUrl = options.databaseUrl ?? db.url;
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    JWT_SIGNING_KEY: TEST_SIGNING_KEY,
    ADMIN_PASSWORD,
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'silent',
    ...options.env,
  });
  const embedded = databaseMode() === 'embedded';
  const app = await createApp({ config, databaseUrl, poolSize: embedded ? EMBEDDED_POOL_SIZE : 5, embedded });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpAdapter().getInstance().server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.close();
  };
  return {
    app,
    config,
    baseUrl,
    db,
    http: new HttpClient(baseUrl),
    stop,
    async close() {
      await stop();
      if (!options.db) await db.drop();
    },
  };
}
