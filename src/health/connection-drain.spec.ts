import { afterEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { ConnectionDrain } from './connection-drain.js';

const OPTIONS = { timeoutMs: 2000, firstRequestMs: 100, quietMs: 10, maxQuietWaitMs: 200 };

/** A server whose /slow answers after `ms`, and everything else at once. */
async function serve(slowMs = 300): Promise<{ server: http.Server; drain: ConnectionDrain; port: number }> {
  const server = http.createServer((request, response) => {
    setTimeout(() => response.end('done'), request.url === '/slow' ? slowMs : 0).unref();
  });
  const drain = new ConnectionDrain(server, OPTIONS);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, drain, port: (server.address() as AddressInfo).port };
}

function get(port: number, path: string, agent: http.Agent | false = false): Promise<{ status?: number; connection?: string; error?: string }> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode, connection: response.headers.connection }));
      })
      .on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code }));
  });
}

describe('ConnectionDrain', () => {
  let server: http.Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('finishes a request in flight, with Connection: close, and refuses new connections after', async () => {
    const s = await serve();
    server = s.server;
    const slow = get(s.port, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const drained = s.drain.drain();
    expect(await slow).toEqual({ status: 200, connection: 'close' });
    expect(await drained).toEqual({ destroyed: 0 });
    expect(await get(s.port, '/')).toEqual({ error: 'ECONNREFUSED' });
  });

  it('gives a connection that sent nothing a moment to send its request, then closes it', async () => {
    const s = await serve();
    server = s.server;
    const silent = net.connect(s.port, '127.0.0.1');
    const late = net.connect(s.port, '127.0.0.1');
    await Promise.all([silent, late].map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    let answer = '';
    late.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise((resolve) => silent.once('close', resolve));
    silent.on('error', () => undefined);
    const started = performance.now();
    const drained = s.drain.drain();
    await new Promise((resolve) => setTimeout(resolve, 40));
    late.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await drained;
    await closed;
    expect(performance.now() - started).toBeLessThan(OPTIONS.firstRequestMs + 400);
    expect(answer).toMatch(/^HTTP\/1.1 200 OK\r\n/);
    expect(answer.toLowerCase()).toContain('connection: close');
  });

  it('says Connection: close from begin() on, and ends an idle keep-alive connection at drain', async () => {
    const s = await serve();
    server = s.server;
    const idle = net.connect(s.port, '127.0.0.1');
    let answer = '';
    idle.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    while (!answer.endsWith('done')) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(answer.toLowerCase()).toContain('connection: keep-alive');
    s.drain.begin();
    expect(await get(s.port, '/')).toEqual({ status: 200, connection: 'close' });
    const ended = new Promise((resolve) => idle.once('close', resolve));
    const started = performance.now();
    expect(await s.drain.drain()).toEqual({ destroyed: 0 });
    await ended;
    expect(performance.now() - started).toBeLessThan(OPTIONS.firstRequestMs);
  });

  it('destroys what is still open after the timeout, and says how many', async () => {
    const s = await serve(5000);
    server = s.server;
    const drain = new ConnectionDrain(s.server, { ...OPTIONS, timeoutMs: 200 });
    const stuck = get(s.port, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await drain.drain()).toEqual({ destroyed: 1 });
    expect((await stuck).error).toBe('ECONNRESET');
  });
});
