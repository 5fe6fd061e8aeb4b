import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger as PinoLogger } from 'pino';
import { ConnectionDrain, DEFAULT_DRAIN } from './connection-drain.js';
import { ShutdownState } from './shutdown-state.js';

/** Past the drain, the rest (pool, listener, embedded database) gets this long before the process gives up. */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * The SIGTERM/SIGINT handler: readiness turns 503 at once; the server keeps serving for the grace period
 * (a load balancer takes the instance out meanwhile), then stops accepting, finishes what it accepted and
 * exits 0. A second signal skips what is left of the grace. Call before `listen`.
 */
export function gracefulShutdown(app: NestFastifyApplication, graceSeconds: number, logger: PinoLogger, afterClose: () => Promise<void> | undefined): (signal: string) => void {
  const drain = new ConnectionDrain(app.getHttpAdapter().getInstance().server, DEFAULT_DRAIN);
  let skipGrace: (() => void) | undefined;
  let closing = false;

  const run = async (signal: string): Promise<void> => {
    app.get(ShutdownState).begin();
    drain.begin();
    if (graceSeconds > 0) {
      logger.info(`${signal} received: readiness is 503; serving ${graceSeconds} s more, then shutting down (signal again to skip)`);
      await new Promise<void>((resolve) => {
        skipGrace = resolve;
        setTimeout(resolve, graceSeconds * 1000);
      });
    } else {
      logger.info(`${signal} received, shutting down`);
    }
    const { destroyed } = await drain.drain();
    if (destroyed > 0) logger.warn(`closed ${destroyed} connection(s) whose requests did not finish within ${DEFAULT_DRAIN.timeoutMs / 1000} s`);
    // Whatever hangs from here on must not keep the process up.
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${CLOSE_TIMEOUT_MS / 1000} s after the last request; exiting`);
      process.exit(1);
    }, CLOSE_TIMEOUT_MS).unref();
    await app.close();
    // After the app, whose pool still uses it while closing.
    await afterClose();
    process.exit(0);
  };

  return (signal: string) => {
    if (closing) {
      skipGrace?.();
      return;
    }
    closing = true;
    run(signal).catch((error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  };
}
