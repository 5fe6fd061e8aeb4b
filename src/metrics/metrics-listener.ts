import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MetricsService } from './metrics.service.js';

/**
 * METRICS_PORT: GET /metrics without authentication, for a scraper on this host or a private network
 * (METRICS_HOST is refused at start-up unless it is loopback or private). A bare node:http server: it
 * answers nothing else, and none of the API's hooks, cookies or routes are reachable through it.
 */
@Injectable()
export class MetricsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsListener.name);
  private server: Server | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /** Where it listens, once started; undefined without METRICS_PORT. */
  address(): AddressInfo | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metricsPort === undefined || !this.metrics.enabled) return;
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: only GET /metrics is served here\n');
      } else if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      } else {
        this.metrics.scrape().then(
          ({ contentType, text }) => response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : text),
          (error: Error) => {
            this.logger.error(`metrics collection failed: ${error.message}`);
            response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Metrics collection failed\n');
          },
        );
      }
    });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.metricsPort, this.config.metricsHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const { address, port } = this.address()!;
    this.logger.log(`metrics without authentication on http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // A scraper's keep-alive connection would hold close() open until it times out.
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
