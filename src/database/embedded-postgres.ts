import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** Room for the service's connection plus psql or the migration CLI alongside it. */
export const EMBEDDED_MAX_CONNECTIONS = 8;
/**
 * One connection: PGlite runs one statement at a time anyway, and its socket server interleaves the
 * extended-protocol messages (Parse/Bind/Execute) of concurrent connections outside a transaction, so a
 * second busy connection breaks the first's unnamed portal ("portal does not exist").
 */
export const EMBEDDED_POOL_SIZE = 1;

/**
 * An embedded PostgreSQL (PGlite, WASM) served to the ordinary `pg` driver over a loopback port
 * chosen at start, so the rest of the service cannot tell it from a real server.
 * `dataDir` undefined keeps everything in memory (tests on a machine with no PostgreSQL).
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
    private readonly lockFile: string | undefined,
  ) {}

  static async start(dataDir: string | undefined): Promise<EmbeddedPostgres> {
    let lockFile: string | undefined;
    let db: PGlite;
    if (dataDir !== undefined) {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      lockFile = path.join(dataDir, 'embedded.lock');
      await takeLock(lockFile);
      db = await PGlite.create(path.join(dataDir, 'pgdata'));
    } else {
      db = await PGlite.create();
    }
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: EMBEDDED_MAX_CONNECTIONS });
    await server.start();
    const port = Number(server.getServerConn().split(':').pop());
    return new EmbeddedPostgres(db, server, `postgres://postgres@127.0.0.1:${port}/postgres`, lockFile);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
    if (this.lockFile) await rm(this.lockFile, { force: true });
  }
}

/** Two processes on one PGlite directory would corrupt it: refuse while another live process holds it. */
async function takeLock(lockFile: string): Promise<void> {
  try {
    const pid = Number((await readFile(lockFile, 'utf8')).trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(`the embedded database in ${path.dirname(lockFile)} is in use by process ${pid}`);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const handle = await open(lockFile, 'w', 0o600);
  await handle.writeFile(String(process.pid));
  await handle.close();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
