import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface DrainOptions {
  /** The longest wait for accepted requests to finish; then the remaining connections are destroyed. */
  timeoutMs: number;
  /** How long a connection that has sent no request yet is given to send one (its bytes may be on the way). */
  firstRequestMs: number;
  /** The listener closes once no connection has arrived for this long, so a burst queued in the kernel is accepted, not reset. */
  quietMs: number;
  /** ... but it closes after this long regardless (a steady stream of new connections must not hold it open). */
  maxQuietWaitMs: number;
}

export const DEFAULT_DRAIN: DrainOptions = { timeoutMs: 10_000, firstRequestMs: 300, quietMs: 50, maxQuietWaitMs: 1000 };

interface Connection {
  inFlight: number;
  served: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Closes an HTTP server without failing a request it accepted. Node's `server.close()` alone resets the
 * connections still in the kernel's accept queue and waits up to the headers timeout on a connection that
 * sent nothing (a browser's preconnect); fastify's `return503OnClosing` refuses requests already sent.
 * Here, once {@link begin} is called every response says `Connection: close`, and {@link drain} closes
 * the listener after the accept queue went quiet, waits for requests in flight, gives a silent
 * connection a moment to send its request, and destroys what is left after the timeout.
 */
export class ConnectionDrain {
  private readonly connections = new Map<Socket, Connection>();
  private draining = false;
  private lastConnectionAt = 0;
  private accepted = 0;
  private changed: (() => void) | undefined;
  private readonly responses = new Set<ServerResponse>();

  constructor(
    private readonly server: Server,
    private readonly options: DrainOptions = DEFAULT_DRAIN,
  ) {
    server.on('connection', (socket: Socket) => {
      this.lastConnectionAt = performance.now();
      this.accepted++;
      this.connections.set(socket, { inFlight: 0, served: 0 });
      socket.once('close', () => {
        this.connections.delete(socket);
        this.changed?.();
      });
    });
    // Before fastify's handler, so the header is on even for an answer written at once.
    server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
      const connection = this.connections.get(request.socket);
      if (connection) {
        connection.inFlight++;
        connection.served++;
        this.responses.add(response);
        response.once('close', () => {
          connection.inFlight--;
          this.responses.delete(response);
          this.changed?.();
        });
      }
      if (this.draining) response.setHeader('Connection', 'close');
    });
  }

  /** From now on every response closes its connection (a keep-alive client moves elsewhere). */
  begin(): void {
    this.draining = true;
    // Responses under way close their connection too, unless their headers are already out.
    for (const response of this.responses) if (!response.headersSent) response.setHeader('Connection', 'close');
  }

  /** Stops accepting, lets every accepted request finish, and resolves once no connection is left. */
  async drain(): Promise<{ destroyed: number }> {
    this.begin();
    const started = performance.now();
    while (performance.now() - this.lastConnectionAt < this.options.quietMs && performance.now() - started < this.options.maxQuietWaitMs) {
      await sleep(Math.max(1, this.options.quietMs - (performance.now() - this.lastConnectionAt)));
    }
    // The check above can pass on a process just rescheduled after load, before it polled for the connections
    // queued meanwhile: close only right after a poll phase (setImmediate runs after one) that accepted none.
    // Two in a row: the first may run in the check phase of the iteration already under way, with no poll before it.
    // However late (a descheduled process), this poll is never skipped; only a steady stream of new connections
    // past the time limit stops it.
    for (let quiet = 0; quiet < 2; ) {
      const before = this.accepted;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.accepted === before) quiet++;
      else if (performance.now() - started > 2 * this.options.maxQuietWaitMs) break;
      else quiet = 0;
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const closedAt = performance.now();
    const deadline = closedAt + this.options.timeoutMs;
    for (;;) {
      const now = performance.now();
      for (const [socket, connection] of this.connections) {
        if (connection.inFlight > 0) continue;
        // Idle keep-alive connections end now (after what is written reaches the client); a silent new one gets a moment to send its request.
        if (connection.served > 0) {
          if (!socket.writableEnded) socket.end();
        } else if (now - closedAt >= this.options.firstRequestMs) {
          socket.destroy();
        }
      }
      if (this.connections.size === 0) break;
      if (now >= deadline) {
        const destroyed = this.connections.size;
        for (const socket of this.connections.keys()) socket.destroy();
        await closed;
        return { destroyed };
      }
      await new Promise<void>((resolve) => {
        this.changed = resolve;
        setTimeout(resolve, Math.min(50, Math.max(1, deadline - now))).unref();
      });
      this.changed = undefined;
    }
    await closed;
    return { destroyed: 0 };
  }
}
