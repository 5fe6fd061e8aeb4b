import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Worker } from 'node:worker_threads';
import pg from 'pg';
import { EmbeddedPostgres } from '../src/database/embedded-postgres.js';

/** The embedded database's socket, in-process: what another local process finds on its port. */
describe('the embedded database socket', () => {
  let embedded: EmbeddedPostgres;
  let port: number;
  beforeAll(async () => {
    embedded = await EmbeddedPostgres.start(undefined);
    port = Number(new URL(embedded.url).port);
  });
  afterAll(async () => embedded?.stop());

  const attempt = async (url: string) => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    return client.connect().then(
      async () => {
        await client.end();
        return 'connected';
      },
      (error: { code?: string }) => error.code ?? String(error),
    );
  };

  it('refuses a connection without the per-start password, or with another, and serves the one with it', async () => {
    expect(await attempt(`postgres://postgres@127.0.0.1:${port}/postgres`)).toBe('28P01');
    expect(await attempt(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`)).toBe('28P01');
    expect(await attempt(`postgres://postgres:${'A'.repeat(43)}@127.0.0.1:${port}/postgres`)).toBe('28P01');
    expect(new URL(embedded.url).password.length).toBeGreaterThanOrEqual(43);
    const client = new pg.Client({ connectionString: embedded.url });
    await client.connect();
    try {
      expect((await client.query('SELECT 41 + $1::int AS answer', [1])).rows).toEqual([{ answer: 42 }]);
    } finally {
      await client.end();
    }
  });

  it('gives connections that never authenticate no place: the service still connects past a flood of them', async () => {
    const idle: Socket[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const socket = tcpConnect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        idle.push(socket);
      }
      await Promise.all(idle.map((socket) => new Promise((resolve) => (socket.readyState === 'open' ? resolve(undefined) : socket.once('connect', resolve)))));
      expect(await attempt(embedded.url)).toBe('connected');
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });

  it('serves concurrent connections whose extended-protocol queries arrive interleaved, each getting its own answers', async () => {
    // pglite-socket ran message by message: a second busy connection broke the first's unnamed portal.
    const clients = Array.from({ length: 4 }, () => new pg.Client({ connectionString: embedded.url }));
    await Promise.all(clients.map((client) => client.connect()));
    try {
      const answers = await Promise.all(
        clients.flatMap((client, c) => Array.from({ length: 25 }, (_, q) => client.query('SELECT $1::int * 1000 + $2::int AS n, pg_sleep(0) AS s', [c, q]).then((r) => r.rows[0].n))),
      );
      expect(answers).toEqual(clients.flatMap((_, c) => Array.from({ length: 25 }, (__, q) => c * 1000 + q)));
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it("keeps another connection's statements out of an open transaction, and rolls it back when its connection goes away", async () => {
    const setup = new pg.Client({ connectionString: embedded.url });
    const inside = new pg.Client({ connectionString: embedded.url });
    const outside = new pg.Client({ connectionString: embedded.url });
    inside.on('error', () => undefined);
    await Promise.all([setup.connect(), inside.connect(), outside.connect()]);
    try {
      await setup.query('CREATE TABLE IF NOT EXISTS tx_probe (n int)');
      await inside.query('BEGIN');
      await inside.query('INSERT INTO tx_probe VALUES (1)');
      // Waits until the transaction ends: it would otherwise run inside it, and see (and commit) its row.
      const count = outside.query('SELECT count(*)::int AS n FROM tx_probe');
      await new Promise((resolve) => setTimeout(resolve, 100));
      (inside as unknown as { connection: { stream: Socket } }).connection.stream.destroy();
      expect((await count).rows).toEqual([{ n: 0 }]);
      expect((await setup.query('SELECT count(*)::int AS n FROM tx_probe')).rows).toEqual([{ n: 0 }]);
    } finally {
      await Promise.all([setup.end(), outside.end(), inside.end().catch(() => undefined)]);
    }
  });

  it('answers a startup packet it does not understand with an error, and closes', async () => {
    const socket = tcpConnect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise((resolve) => socket.once('connect', resolve));
    const packet = Buffer.alloc(8);
    packet.writeInt32BE(8, 0);
    packet.writeInt32BE(0x00020000, 4); // protocol 2.0
    socket.write(packet);
    await new Promise((resolve) => socket.once('close', resolve));
    const reply = Buffer.concat(received);
    expect(String.fromCharCode(reply[0])).toBe('E');
    expect(reply.toString('utf8')).toContain('0A000');
  });
});

describe('the embedded database thread', () => {
  it('tells the service when it dies, and refuses connections from then on', async () => {
    const embedded = await EmbeddedPostgres.start(undefined);
    try {
      const failed = new Promise<Error>((resolve) => embedded.onFailure(resolve));
      // What a WASM trap or an out-of-memory abort does to the thread.
      await (embedded as unknown as { worker: Worker }).worker.terminate();
      expect((await failed).message).toMatch(/embedded database thread exited/);
      const client = new pg.Client({ connectionString: embedded.url, connectionTimeoutMillis: 2000 });
      client.on('error', () => undefined);
      await expect(client.connect()).rejects.toThrow();
    } finally {
      await embedded.stop();
    }
  });

  it('stops without telling anyone it failed', async () => {
    const embedded = await EmbeddedPostgres.start(undefined);
    let failure: Error | undefined;
    embedded.onFailure((error) => (failure = error));
    await embedded.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(failure).toBeUndefined();
  });
});
