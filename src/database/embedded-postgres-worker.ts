import { timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { sha256 } from '../common/crypto.js';

/**
 * The embedded database's thread (see EmbeddedPostgres): PGlite, the loopback port it is served on, the
 * password front and the PostgreSQL protocol are all here, so the database's work (WASM, socket reads and
 * writes) runs beside the service's requests on another core instead of between them.
 */

/** Room for the service's pool plus psql alongside it. */
export const EMBEDDED_MAX_CONNECTIONS = 8;
/** A connection that has not proved the password by then is dropped, so it cannot hold a place. */
const AUTHENTICATION_TIMEOUT_MS = 10_000;
/** Connections still authenticating; past this, the oldest is dropped for each new one. */
const MAX_PENDING_CONNECTIONS = 32;

const PROTOCOL_3_0 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const MAX_STARTUP_BYTES = 10_000;
const MAX_PASSWORD_BYTES = 1024;

/**
 * PostgreSQL's settings for the embedded database, after PGlite's own. PostgreSQL's default shared_buffers
 * (128 MB) is touched whole at start inside PGlite's WASM memory, which made it most of the process's resident
 * memory; the service's data is a few megabytes, and what is not in the buffers is in the OS page cache.
 * max_connections sizes the shared memory too: PGlite is one backend whatever the socket serves.
 */
export const EMBEDDED_SETTINGS = ['shared_buffers=16MB', 'max_connections=10'];

/**
 * Messages after which a client waits for an answer: the end of an extended-protocol exchange (Sync), a simple
 * query, Flush, and the end of COPY data. Everything a client sends up to one of them goes to PGlite as one
 * batch, run whole before another connection's: a connection's unnamed statement and portal (Parse, Bind,
 * Execute) are then never interleaved with another's, and one call into PGlite and one socket write answer
 * a whole query instead of one per message.
 */
const ANSWERED_AFTER = new Set(['S', 'Q', 'H', 'c', 'f', 'F']);
const TERMINATE = 0x58; // 'X'

export interface WorkerStart {
  dataDir: string | undefined;
  password: string;
}

export type WorkerMessage = { type: 'ready'; port: number } | { type: 'failed'; message: string } | { type: 'stopped' };

/**
 * One statement batch at a time (PGlite is one backend), first come first served, except that while a
 * connection has a transaction open only that connection's batches run: another connection's statements
 * must not land inside it. A connection that goes away in a transaction has it rolled back.
 */
class BatchQueue {
  private readonly waiting: { owner: Connection; batch: Buffer; done: (reply: Buffer | Error) => void }[] = [];
  private running = false;
  /** The connection whose transaction is open. */
  private owner: Connection | undefined;

  constructor(private readonly db: PGlite) {}

  run(owner: Connection, batch: Buffer): Promise<Buffer | Error> {
    return new Promise((done) => {
      this.waiting.push({ owner, batch, done });
      void this.drain();
    });
  }

  /** Drops a closed connection's batches, and its transaction once nothing of it runs. */
  release(owner: Connection): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i].owner === owner) this.waiting.splice(i, 1)[0].done(new Error('connection closed'));
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        if (this.owner?.closed) {
          await this.db.exec('ROLLBACK');
          this.owner = undefined;
        }
        const index = this.owner === undefined ? 0 : this.waiting.findIndex((job) => job.owner === this.owner);
        if (index === -1 || this.waiting.length === 0) return;
        const [job] = this.waiting.splice(index, 1);
        const chunks: Buffer[] = [];
        try {
          await this.db.runExclusive(() => this.db.execProtocolRawStream(job.batch, { onRawData: (data) => chunks.push(Buffer.from(data)) }));
          job.done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        } catch (error) {
          job.done(error as Error);
        }
        this.owner = this.db.isInTransaction() ? job.owner : undefined;
      }
    } finally {
      this.running = false;
    }
  }
}

/** An authenticated client: its messages, batched up to each point where it waits for an answer. */
class Connection {
  closed = false;
  private buffered: Buffer = Buffer.alloc(0);
  private batch: Buffer[] = [];
  /** Batches sent and not yet answered: their answers are written in order. */
  private replies: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly socket: Socket,
    private readonly queue: BatchQueue,
    private readonly onClose: (connection: Connection) => void,
  ) {}

  start(startup: Buffer, unread: Buffer): void {
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', () => this.close());
    this.socket.on('close', () => this.close());
    // The startup message gets PGlite's AuthenticationOk, parameters and ReadyForQuery.
    this.send(startup);
    if (unread.length > 0) this.receive(unread);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.queue.release(this);
    this.onClose(this);
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let offset = 0;
    while (this.buffered.length - offset >= 5) {
      const length = this.buffered.readInt32BE(offset + 1);
      if (length < 4) return this.close();
      if (this.buffered.length - offset < length + 1) break;
      const type = this.buffered[offset];
      if (type === TERMINATE) return this.close();
      this.batch.push(this.buffered.subarray(offset, offset + length + 1));
      offset += length + 1;
      if (ANSWERED_AFTER.has(String.fromCharCode(type))) {
        const batch = this.batch.length === 1 ? this.batch[0] : Buffer.concat(this.batch);
        this.batch = [];
        this.send(batch);
      }
    }
    this.buffered = offset === this.buffered.length ? Buffer.alloc(0) : this.buffered.subarray(offset);
  }

  private send(batch: Buffer): void {
    // A copy: the socket's buffer may be reused once this returns, and the batch waits in the queue.
    const reply = this.queue.run(this, Buffer.from(batch));
    this.replies = this.replies.then(async () => {
      const answer = await reply;
      if (this.closed) return;
      if (answer instanceof Error) return this.close();
      if (answer.length > 0) this.socket.write(answer);
    });
  }
}

/** The loopback server: a password front, then PostgreSQL's protocol against PGlite. */
class EmbeddedServer {
  /** Connections still authenticating, oldest first, each with what ends its authentication. */
  private readonly pending = new Map<Socket, () => void>();
  private readonly connections = new Set<Connection>();
  private readonly queue: BatchQueue;

  private constructor(
    private readonly db: PGlite,
    private readonly password: string,
    readonly server: Server,
  ) {
    this.queue = new BatchQueue(db);
    server.on('connection', (socket) => this.authenticate(socket));
  }

  static async start({ dataDir, password }: WorkerStart): Promise<EmbeddedServer> {
    const startParams = [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS.flatMap((setting) => ['-c', setting])];
    const db = dataDir === undefined ? await PGlite.create({ startParams }) : await PGlite.create(dataDir, { startParams });
    const embedded = new EmbeddedServer(db, password, createServer());
    await new Promise<void>((resolve, reject) => {
      embedded.server.once('error', reject);
      embedded.server.listen(0, '127.0.0.1', () => resolve());
    });
    return embedded;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const [socket, finish] of this.pending) {
      finish();
      socket.destroy();
    }
    for (const connection of this.connections) connection.close();
    await closed;
    await this.db.close();
  }

  /**
   * Reads the startup message, asks for the password in clear (loopback only; the password is random and
   * lives as long as this process), and hands the connection to a {@link Connection}, startup message first,
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
        if (this.connections.size >= EMBEDDED_MAX_CONNECTIONS) return refuse('53300', 'too many connections to the embedded database');
        done();
        this.handOver(socket, startup, rest);
        return;
      }
    };
    socket.on('data', onData);
    socket.on('error', () => {
      // A client that goes away mid-authentication; the connection takes over errors later.
      if (this.pending.has(socket)) done();
    });
    socket.on('close', () => {
      if (this.pending.has(socket)) done();
    });
  }

  private handOver(socket: Socket, startup: Buffer, unread: Buffer): void {
    const connection = new Connection(socket, this.queue, (closed) => this.connections.delete(closed));
    this.connections.add(connection);
    connection.start(startup, unread);
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


const port = parentPort;
if (port !== null) {
  const post = (message: WorkerMessage) => port.postMessage(message);
  EmbeddedServer.start(workerData as WorkerStart).then(
    (server) => {
      port.on('message', (message: { type: string }) => {
        if (message.type !== 'stop') return;
        server.stop().then(
          () => {
            post({ type: 'stopped' });
            port.close();
          },
          (error: unknown) => post({ type: 'failed', message: error instanceof Error ? error.message : String(error) }),
        );
      });
      post({ type: 'ready', port: server.port });
    },
    (error: unknown) => {
      post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      port.close();
    },
  );
}
