import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createLogger } from './common/logging.js';
import { ConfigError, loadConfig, MIN_SIGNING_KEY_BYTES } from './config/app-config.js';
import { prepareRuntime } from './runtime.js';

async function main(): Promise<void> {
  const started = performance.now();
  let config;
  try {
    // A .env file in the working directory fills in what the environment does not set (the environment wins).
    if (existsSync('.env')) process.loadEnvFile('.env');
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError || (error as NodeJS.ErrnoException).code === 'ERR_INVALID_ARG_VALUE') {
      process.stderr.write(`Configuration error: ${(error as Error).message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  // The embedded database starts in its own thread while this one loads the application's modules (about a
  // second of work each): imported statically, the modules would load first and the two would add up.
  const preparing = prepareRuntime(config);
  preparing.catch(() => undefined);
  const [{ createApp }, { gracefulShutdown }, { AdminBootstrapService }] = await Promise.all([
    import('./app.factory.js'),
    import('./health/graceful-shutdown.js'),
    import('./identity/admin-bootstrap.service.js'),
  ]);
  const runtime = await preparing;
  // Without its database the service can only fail every request; exiting lets a supervisor restart it,
  // and the restart recovers the data from the write-ahead log.
  runtime.embedded?.onFailure((error) => {
    process.stderr.write(`AppToken Server stops: its embedded database failed (${error.message})\n`);
    process.exit(1);
  });
  if (Buffer.byteLength(runtime.config.jwt.signingKey, 'utf8') < MIN_SIGNING_KEY_BYTES) {
    logger.warn(
      `JWT_SIGNING_KEY is under ${MIN_SIGNING_KEY_BYTES} bytes and JWT_ALLOW_WEAK_SIGNING_KEY=true: tokens can be forged by ` +
        'anyone who guesses the key. Use this only to interoperate with a PSU instance, and move to a long random key.',
    );
  }
  if (config.trustProxy === true) {
    logger.warn(
      'TRUST_PROXY=true believes X-Forwarded-For from any client, who can then choose its own address for the sign-in ' +
        'throttle and the audit log; list your proxies instead (TRUST_PROXY=10.0.0.5,fd00::/8)',
    );
  }
  const app = await createApp({ config: runtime.config, databaseUrl: runtime.databaseUrl, poolSize: runtime.poolSize, embedded: runtime.embedded !== undefined, logger });
  const shutdown = gracefulShutdown(app, runtime.config.shutdownGraceSeconds, logger, () => runtime.embedded?.stop());
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await app.listen({ port: config.port, host: config.host });

  const address = app.getHttpAdapter().getInstance().server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
  const bootstrap = app.get(AdminBootstrapService);
  const admin = bootstrap.created;
  const pending = bootstrap.pending;
  const lines = [
    '',
    `AppToken Server is listening on ${base}`,
    `  Console:     ${base}/`,
    `  Swagger UI:  ${base}/swagger`,
    `  Database:    ${runtime.embedded ? `embedded PostgreSQL in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)'}`,
  ];
  if (admin) {
    lines.push(`  Administrator: ${admin.name}${admin.reset ? '   (password reset by ADMIN_RESET_PASSWORD: remove it now)' : ''}`);
  } else if (pending) {
    lines.push(`  Administrator: ${pending.name}`);
  }
  if (pending) {
    // On the console only (not in the structured log).
    lines.push(
      `  Password:      ${pending.password}   ` +
        (pending.file ? `(generated; kept in ${pending.file} and shown at each start until the first sign-in with it)` : '(generated now; it will not be shown again)'),
    );
  }
  if (runtime.generatedSigningKey) lines.push(`  Signing key:   generated into ${config.dataDir}/signing-key`);
  lines.push(`  Started in ${Math.round(performance.now() - started)} ms`, '');
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`AppToken Server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
