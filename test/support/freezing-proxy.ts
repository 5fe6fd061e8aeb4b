import { createServer, Socket, type Server } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that can silently stop relaying the connections of one
 * application_name, as a NAT or load balancer that drops an idle flow would: no FIN, no RST, nothing.
 */
export class FreezingProxy {
  private readonly connections: Array<{ client: Socket; server: Socket; applicationName: string; frozen: boolean }> = [];
  private server: Server | undefined;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    this.server = createServer((client) => {
      const server = new Socket();
      const entry = { client, server, applicationName: '', frozen: false };
      this.connections.push(entry);
      server.connect(this.targetPort, this.targetHost);
      client.on('data', (chunk: Buffer) => {
        // The startup message names the application.
        if (!entry.applicationName) entry.applicationName = /application_name\0([^\0]*)\0/.exec(chunk.toString('latin1'))?.[1] ?? '?';
        if (!entry.frozen) server.write(chunk);
      });
      server.on('data', (chunk: Buffer) => {
        if (!entry.frozen) client.write(chunk);
      });
      const close = () => {
        client.destroy();
        server.destroy();
      };
      client.on('error', close).on('close', close);
      server.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server!.address() as { port: number }).port;
  }

  /** Stops relaying, both ways, every open connection of this application; new ones pass. */
  freeze(applicationName: string): number {
    const matching = this.connections.filter((c) => c.applicationName === applicationName && !c.client.destroyed);
    for (const connection of matching) connection.frozen = true;
    return matching.length;
  }

  async stop(): Promise<void> {
    for (const { client, server } of this.connections) {
      client.destroy();
      server.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
