import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AuditAction } from '../audit/audit.service.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { tokenEventData } from '../webhook/webhook-events.js';
import { DAY_MS } from './app-token-policy.js';
import { AppTokenRepository } from './app-token.repository.js';

const INTERVAL_MS = 60 * 60_000;

/**
 * Hourly: tokens revoked or expired longer than APP_TOKEN_RETENTION_DAYS ago are deleted (the table's
 * trigger tombstones them), each announced as `apptoken.deleted` with reason "purged" (a record that
 * disappears is news to whoever mirrors the list), and tombstones whose JWT has expired are dropped.
 */
@Injectable()
export class AppTokenHousekeepingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AppTokenHousekeepingService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: AppTokenRepository,
    private readonly work: UnitOfWork,
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
      const purged = await this.purgeEndedBefore(new Date(Date.now() - this.config.appTokenRetentionDays * DAY_MS));
      await this.tokens.dropSpentTombstones();
      return purged;
    } catch (error) {
      this.logger.warn(`token housekeeping failed: ${(error as Error).message}`);
      return 0;
    }
  }

  /** Deletes the tokens revoked or expired before `cutoff`, and their descendants, in one unit of work; how many. */
  async purgeEndedBefore(cutoff: Date): Promise<number> {
    return this.work.run(async (tx) => {
      const removed = await this.tokens.removeTrees(tx.manager, { endedBefore: cutoff });
      if (removed.length > 0) await tx.audit({ action: AuditAction.TokensPurged, detail: { count: removed.length } });
      tx.emit(...removed.map((gone) => ({ type: 'apptoken.deleted' as const, data: tokenEventData(gone, { reason: 'purged', by: null }) })));
      // Declared (the trigger's notifications, folded with these by PostgreSQL, already say it) so the purge
      // returns once every instance has dropped them: a purged token is refused as soon as it returns.
      tx.invalidate(...removed.map((gone) => ({ kind: 'token' as const, hash: gone.hash })));
      return removed.length;
    });
  }
}
