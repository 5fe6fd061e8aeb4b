import { timingSafeEqual } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { randomSecret, sha256 } from '../common/crypto.js';
import { makePrivateDirectory } from '../common/private-files.js';

/** Room for the service's connection plus psql alongside it. */
export const EMBEDDED_MAX_CONNECTIONS = 8;
/**
 * One connection: PGlite runs one statement at a time anyway, and its socket server interleaves the
 * extended-protocol messages (Parse/Bind/Execute) of concurrent connections outside a transaction, so a
 * second busy connection breaks the first's unnamed portal ("portal does not exist").
 */
export const EMBEDDED_POOL_SIZE = 1;
/** A connection that has not proved the password by then is dropped, so it cannot hold a place. */
const AUTHENTICATION_TIMEOUT_MS = 10_000;
/** Connections still authenticating; past this, the oldest is dropped for each new one. */
const MAX_PENDING_CONNECTIONS = 32;

const PROTOCOL_3_0 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const MAX_STARTUP_BYTES = 10_000;
const MAX_PASSWORD_BYTES = 1024;

/** The part of pglite-socket's (unexported) query queue its connection handler needs. */
type QueryQueue = ConstructorParameters<typeof PGLiteSocketHandler>[0]['queryQueue'];

/**
 * An embedded PostgreSQL (PGlite, WASM) served to the ordinary `pg` driver over a loopback port chosen at
 * start, so the rest of the service cannot tell it from a real server. pglite-socket has no authentication
 * (PGlite answers any startup with AuthenticationOk), so a small front asks every connection for a password
 * generated at each start and known only to this process (it is in no file, argument or environment
 * variable); only then is the connection handed to pglite-socket. A loopback port rather than a Unix socket:
 * `pg` on Windows cannot use one, and the password holds on every platform.
 * `dataDir` undefined keeps everything in memory (tests on a machine with no PostgreSQL).
 */
export class EmbeddedPostgres {
  /** Connections still authenticating, oldest first, each with what ends its authentication. */
  private readonly pending = new Map<Socket, () => void>();
  private readonly handlers = new Set<PGLiteSocketHandler>();

  private constructor(
    private readonly db: PGlite,
    private readonly queue: QueryQueue,
    private readonly password: string,
    private readonly server: Server,
    private readonly lockFile: string | undefined,
  ) {}

  /** The connection URL, password included: hand it only to this process's own pool. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `postgres://postgres:${this.password}@127.0.0.1:${port}/postgres`;
  }

  static async start(dataDir: string | undefined): Promise<EmbeddedPostgres> {
    let lockFile: string | undefined;
    let db: PGlite;
    if (dataDir !== undefined) {
      await makePrivateDirectory(dataDir);
      lockFile = path.join(dataDir, 'embedded.lock');
      await takeLock(lockFile);
      db = await PGlite.create(path.join(dataDir, 'pgdata'));
    } else {
      db = await PGlite.create();
    }
    // Never started: only its query queue is used, which serialises statements and keeps a transaction's
    // statements together across connections.
    const queue = (new PGLiteSocketServer({ db }) as unknown as { queryQueue?: QueryQueue }).queryQueue;
    if (queue === undefined) throw new Error('@electric-sql/pglite-socket changed: its server has no query queue');
    const server = createServer();
    const embedded = new EmbeddedPostgres(db, queue, randomSecret(32), server, lockFile);
    server.on('connection', (socket) => embedded.authenticate(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return embedded;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const [socket, finish] of this.pending) {
      finish();
      socket.destroy();
    }
    await Promise.all([...this.handlers].map((handler) => handler.detach(true)));
    await closed;
    await this.db.close();
    if (this.lockFile) await rm(this.lockFile, { force: true });
  }

  /**
   * Reads the startup message, asks for the password in clear (loopback only; the password is random and
   * lives as long as this process), and hands the connection to pglite-socket, startup message first,
   * only once the password matches. Anything else gets a FATAL error and is closed.
   */
  private authenticate(socket: Socket): void {
    if (this.pending.size >= MAX_PENDING_CONNECTIONS) {
      // The oldest goes: a flood of idle connections then cannot keep the service's own (which authenticates
      // within a millisecond) from getting through.
      const [oldest, finish] = this.pending.entries().next().value!;
      finish();
      oldest.destroy();
    }
    let buffered = Buffer.alloc(0);
    let startup: Buffer | undefined;
    const timer = setTimeout(() => refuse('08P01', 'authentication timed out'), AUTHENTICATION_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      this.pending.delete(socket);
      socket.removeListener('data', onData);
    };
    this.pending.set(socket, done);
    const refuse = (code: string, message: string) => {
      done();
      socket.end(errorResponse(code, message));
      socket.destroySoon();
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (startup === undefined) {
          if (buffered.length < 8) return;
          const length = buffered.readInt32BE(0);
          const code = buffered.readInt32BE(4);
          if (length < 8 || length > MAX_STARTUP_BYTES) return refuse('08P01', 'invalid startup packet');
          if (buffered.length < length) return;
          const message = buffered.subarray(0, length);
          buffered = buffered.subarray(length);
          if (length === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
            socket.write('N');
            continue;
          }
          if (code !== PROTOCOL_3_0) return refuse('0A000', 'only protocol 3.0 is supported');
          startup = Buffer.from(message);
          // AuthenticationCleartextPassword.
          socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
          continue;
        }
        if (buffered.length < 5) return;
        const length = buffered.readInt32BE(1);
        if (buffered[0] !== 0x70 || length < 5 || length > MAX_PASSWORD_BYTES + 5) return refuse('28P01', 'password authentication failed');
        if (buffered.length < length + 1) return;
        const given = buffered.subarray(5, length); // without the terminating NUL
        const rest = buffered.subarray(length + 1);
        if (!timingSafeEqual(sha256(given), sha256(this.password))) return refuse('28P01', 'password authentication failed for the embedded database');
        if (this.handlers.size >= EMBEDDED_MAX_CONNECTIONS) return refuse('53300', 'too many connections to the embedded database');
        done();
        void this.handOver(socket, Buffer.concat([startup, rest]));
        return;
      }
    };
    socket.on('data', onData);
    socket.on('error', () => {
      // A client that goes away mid-authentication; pglite-socket's handler takes over errors later.
      if (this.pending.has(socket)) done();
    });
    socket.on('close', () => {
      if (this.pending.has(socket)) done();
    });
  }

  private async handOver(socket: Socket, unread: Buffer): Promise<void> {
    socket.pause();
    socket.unshift(unread);
    const handler = new PGLiteSocketHandler({ queryQueue: this.queue, closeOnDetach: true });
    this.handlers.add(handler);
    const forget = () => this.handlers.delete(handler);
    handler.addEventListener('close', forget);
    handler.addEventListener('error', forget);
    await handler.attach(socket);
    socket.resume();
  }
}

/** An ErrorResponse message (severity FATAL). */
function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat(
    [['S', 'FATAL'], ['V', 'FATAL'], ['C', code], ['M', message]].map(([type, value]) => Buffer.from(`${type}${value}\0`, 'utf8')).concat(Buffer.from([0])),
  );
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

/**
 * Two processes on one PGlite directory would corrupt it. The lock file appears at once with its pid in it
 * (written aside, then hard-linked into place, which fails if it exists), so two processes starting together
 * cannot both take it and neither can read it half-written; one left by a process that no longer runs is replaced.
 */
async function takeLock(lockFile: string): Promise<void> {
  const aside = `${lockFile}.${process.pid}`;
  await writeFile(aside, String(process.pid), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(aside, lockFile);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let pid: number;
      try {
        pid = Number((await readFile(lockFile, 'utf8')).trim());
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(`the embedded database in ${path.dirname(lockFile)} is in use by process ${pid} (if that process is not AppToken Server, delete ${lockFile})`);
      }
      await rm(lockFile, { force: true });
    }
    throw new Error(`could not take the lock ${lockFile}: other processes keep taking it`);
  } finally {
    await rm(aside, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
