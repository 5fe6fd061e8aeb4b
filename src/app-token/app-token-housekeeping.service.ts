import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AuditAction, AuditService } from '../audit/audit.service.js';
import { AppTokenService } from './app-token.service.js';

const INTERVAL_MS = 60 * 60_000;

/** Hourly: tokens revoked or expired longer than APP_TOKEN_RETENTION_DAYS ago are deleted. */
@Injectable()
export class AppTokenHousekeepingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AppTokenHousekeepingService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tokens: AppTokenService,
    private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.run(), INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async run(): Promise<number> {
    try {
      const purged = await this.tokens.purge();
      if (purged > 0) await this.audit.record({ action: AuditAction.TokensPurged, detail: { count: purged } });
      return purged;
    } catch (error) {
      this.logger.warn(`token housekeeping failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
