import { existsSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { randomSecret } from '../common/crypto.js';
import { makePrivateDirectory } from '../common/private-files.js';
import { DataDirLock } from './data-dir-lock.js';
import type { WorkerMessage, WorkerStart } from './embedded-postgres-worker.js';

export { EmbeddedDatabaseInUseError } from './data-dir-lock.js';

export { EMBEDDED_MAX_CONNECTIONS } from './embedded-postgres-worker.js';
/**
 * The service's pool. The database thread runs each connection's statements up to a Sync as one batch, so
 * concurrent connections no longer break each other's unnamed portals (pglite-socket ran message by message);
 * several connections let the next request's query wait in that thread's queue while this thread handles
 * the previous answer, instead of in this thread's pool.
 */
export const EMBEDDED_POOL_SIZE = 4;

/**
 * An embedded PostgreSQL (PGlite, WASM) served to the ordinary `pg` driver over a loopback port chosen at
 * start, so the rest of the service cannot tell it from a real server. It runs in a worker thread of its own
 * (embedded-postgres-worker.ts): the database's work then uses the second core instead of the event loop that
 * serves requests. PGlite answers any startup with AuthenticationOk, so a small front in that thread asks every
 * connection for a password generated at each start and known only to this process (it is in no file,
 * argument or environment variable; the thread gets it in memory); only then is the connection served.
 * A loopback port rather than a Unix socket: `pg` on Windows cannot use one, and the password holds on every
 * platform. `dataDir` undefined keeps everything in memory (tests on a machine with no PostgreSQL).
 *
 * If the database thread dies (a WASM trap, memory exhausted), {@link onFailure}'s listeners are told: the
 * service cannot go on without its database, and a restart recovers the data from the write-ahead log.
 */
export class EmbeddedPostgres {
  private stopping = false;
  private failure: Error | undefined;
  private readonly failureListeners: ((error: Error) => void)[] = [];

  private constructor(
    private readonly worker: Worker,
    private readonly port: number,
    private readonly password: string,
    private readonly lock: DataDirLock | undefined,
    private readonly exited: Promise<number>,
  ) {
    worker.on('error', (error) => this.fail(error));
    void exited.then((code) => this.fail(new Error(`the embedded database thread exited (code ${code})`)));
  }

  /** The connection URL, password included: hand it only to this process's own pool. */
  get url(): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${this.port}/postgres`;
  }

  /** Calls `listener` once if the database thread dies other than by {@link stop} (at once if it already has). */
  onFailure(listener: (error: Error) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  static async start(dataDir: string | undefined): Promise<EmbeddedPostgres> {
    let lock: DataDirLock | undefined;
    if (dataDir !== undefined) {
      await makePrivateDirectory(dataDir);
      lock = await DataDirLock.take(path.join(dataDir, 'embedded.lock'));
    }
    const password = randomSecret(32);
    const start: WorkerStart = { dataDir: dataDir === undefined ? undefined : path.join(dataDir, 'pgdata'), password };
    // PGlite's WebAssembly runs on V8's baseline compiler (Liftoff) only: the optimizing tier compiled its hot
    // functions into about 45 MB more resident memory (compiler zones freed into malloc arenas the process keeps;
    // 282 -> 238 MB after start, 321 -> 268 MB after load) and spent CPU doing it during the first minutes of
    // load (identity/my measured 2.1 ms of CPU a request with it, 1.4 ms without). The flag is process-wide and
    // read when a module is compiled, so it is set before the thread compiles PGlite; only that thread runs
    // WebAssembly (argon2 is native).
    setFlagsFromString('--liftoff-only');
    const worker = new Worker(workerFile(), { workerData: start });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        worker.once('error', reject);
        void exited.then((code) => reject(new Error(`the embedded database thread exited (code ${code})`)));
        worker.once('message', (message: WorkerMessage) => {
          if (message.type === 'ready') resolve(message.port);
          else reject(new Error(message.type === 'failed' ? message.message : `unexpected ${message.type}`));
        });
      });
      worker.removeAllListeners('error');
      return new EmbeddedPostgres(worker, port, password, lock, exited);
    } catch (error) {
      await worker.terminate();
      await lock?.release();
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.failure === undefined) {
      const stopped = new Promise<void>((resolve, reject) => {
        this.worker.on('message', (message: WorkerMessage) => {
          if (message.type === 'stopped') resolve();
          if (message.type === 'failed') reject(new Error(message.message));
        });
        void this.exited.then(() => resolve());
      });
      this.worker.postMessage({ type: 'stop' });
      await stopped;
    }
    await this.worker.terminate();
    await this.lock?.release();
  }

  private fail(error: Error): void {
    if (this.stopping || this.failure) return;
    this.failure = error;
    for (const listener of this.failureListeners.splice(0)) listener(error);
  }
}

/**
 * The worker's script beside this module once built; from the sources (jest runs them untranspiled for Node),
 * the built copy, which `npm run build` makes before the e2e specs.
 */
function workerFile(): URL {
  const beside = new URL('./embedded-postgres-worker.js', import.meta.url);
  if (existsSync(beside)) return beside;
  const built = new URL('../../dist/database/embedded-postgres-worker.js', import.meta.url);
  if (existsSync(built)) return built;
  throw new Error(`the embedded database thread's script is missing (${beside.pathname}): run npm run build`);
}
