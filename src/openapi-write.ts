import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp } from './app.factory.js';
import { createLogger } from './common/logging.js';
import { loadConfig } from './config/app-config.js';
import { prepareRuntime } from './runtime.js';
import { buildOpenApiDocument, OPENAPI_FILE, serializeOpenApi } from './swagger.js';

/**
 * `npm run openapi:write`: rewrites the committed openapi.json from the built application. Needs no
 * PostgreSQL: the app boots on a throwaway embedded database (PGlite) in a temporary directory.
 */
async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'apptoken-openapi-'));
  try {
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ADMIN_PASSWORD: 'openapi-write-only-password' });
    const runtime = await prepareRuntime(config);
    try {
      const app = await createApp({ config: runtime.config, databaseUrl: runtime.databaseUrl, poolSize: runtime.poolSize, embedded: true, logger: createLogger('silent') });
      await app.init();
      const file = path.resolve(process.argv[2] ?? OPENAPI_FILE);
      await writeFile(file, serializeOpenApi(buildOpenApiDocument(app)));
      await app.close();
      process.stdout.write(`wrote ${file}\n`);
    } finally {
      await runtime.embedded?.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`openapi:write failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
