import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { tokenEventData } from '../webhook/webhook-events.js';
import { AppTokenRepository } from './app-token.repository.js';

const INTERVAL_MS = 60_000;
/** Tokens claimed per transaction: a schedule's thousand tokens expiring together are announced in a few commits. */
const BATCH = 500;

/**
 * `apptoken.expiring`: once per token, WEBHOOK_EXPIRING_DAYS before it expires. Every minute, and once at
 * start-up (awaited, so a restart announces what came due while no instance ran), one unit of work claims the
 * tokens that have entered the window (not revoked before they expire, not yet announced, rows another
 * instance holds skipped), marks them and emits their events: the mark and the outbox rows commit together, so
 * a token is announced once whatever crashes, and two instances never both announce it. A token granted
 * already inside the window is announced at the next scan, within a minute.
 *
 * Nothing is claimed while no enabled webhook subscribes to `apptoken.expiring` (checked in the claiming
 * statement): a webhook created later still hears of every token that has not expired yet.
 */
@Injectable()
export class ExpiringTokenScan implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ExpiringTokenScan.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: AppTokenRepository,
    private readonly work: UnitOfWork,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.run();
    this.timer = setInterval(() => void this.run(), INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One scan (joined when one is already running here); how many tokens it announced. Never throws. */
  run(): Promise<number> {
    this.running ??= this.scan().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async scan(): Promise<number> {
    const days = this.config.webhookExpiringDays;
    let announced = 0;
    try {
      for (;;) {
        const claimed = await this.work.run(async (tx) => {
          const due = await this.tokens.claimExpiring(tx.manager, days, BATCH);
          tx.emit(...due.map((token) => ({ type: 'apptoken.expiring' as const, data: tokenEventData(token, { windowDays: days }) })));
          return due.length;
        });
        announced += claimed;
        if (claimed < BATCH) return announced;
      }
    } catch (error) {
      this.logger.warn(`expiring-token scan failed: ${(error as Error).message}`);
      return announced;
    }
  }
}
