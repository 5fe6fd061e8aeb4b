import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomSecret } from './common/crypto.js';
import { ConfigError, type AppConfig } from './config/app-config.js';
import { EMBEDDED_POOL_SIZE, EmbeddedPostgres } from './database/embedded-postgres.js';

export const SIGNING_KEY_FILE = 'signing-key';
const SERVER_POOL_SIZE = 10;

export interface Runtime {
  /** The configuration with the signing key resolved. */
  config: AppConfig & { jwt: AppConfig['jwt'] & { signingKey: string } };
  databaseUrl: string;
  poolSize: number;
  embedded?: EmbeddedPostgres;
  /** True when this start generated the embedded signing key. */
  generatedSigningKey: boolean;
}

/**
 * The embedded default's signing key: 32 random bytes (as base64url text, whose UTF-8 bytes are the key,
 * the same way a configured JWT_SIGNING_KEY is used), generated once and kept in DATA_DIR with mode 0600.
 */
async function embeddedSigningKey(dataDir: string): Promise<{ key: string; generated: boolean }> {
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key.length === 0) throw new ConfigError('JWT_SIGNING_KEY', `${file} is empty; delete it to generate a new key`);
    return { key, generated: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomSecret(32);
  await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return { key, generated: true };
}

/** Resolves what the configuration leaves to start-up: the database (embedded when unset) and the signing key. */
export async function prepareRuntime(config: AppConfig): Promise<Runtime> {
  if (config.databaseUrl !== undefined) {
    return {
      config: config as Runtime['config'],
      databaseUrl: config.databaseUrl,
      poolSize: SERVER_POOL_SIZE,
      generatedSigningKey: false,
    };
  }
  let generated = false;
  let signingKey = config.jwt.signingKey;
  if (signingKey === undefined) {
    ({ key: signingKey, generated } = await embeddedSigningKey(config.dataDir));
  }
  const embedded = await EmbeddedPostgres.start(config.dataDir);
  return {
    config: { ...config, jwt: { ...config.jwt, signingKey } },
    databaseUrl: embedded.url,
    poolSize: EMBEDDED_POOL_SIZE,
    embedded,
    generatedSigningKey: generated,
  };
}
