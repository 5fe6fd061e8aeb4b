import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AuditAction, AuditService } from '../audit/audit.service.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DAY_MS } from './app-token-policy.js';
import { AppTokenRepository } from './app-token.repository.js';

const INTERVAL_MS = 60 * 60_000;

/**
 * Hourly: tokens revoked or expired longer than APP_TOKEN_RETENTION_DAYS ago are deleted (the table's
 * trigger tombstones them), and tombstones whose JWT has expired are dropped.
 */
@Injectable()
export class AppTokenHousekeepingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AppTokenHousekeepingService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: AppTokenRepository,
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
      const purged = await this.tokens.purgeEndedBefore(new Date(Date.now() - this.config.appTokenRetentionDays * DAY_MS));
      await this.tokens.dropSpentTombstones();
      if (purged > 0) await this.audit.record({ action: AuditAction.TokensPurged, detail: { count: purged } });
      return purged;
    } catch (error) {
      this.logger.warn(`token housekeeping failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
