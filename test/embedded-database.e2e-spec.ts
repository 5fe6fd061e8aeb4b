import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as tcpConnect, type Socket } from 'node:net';
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
