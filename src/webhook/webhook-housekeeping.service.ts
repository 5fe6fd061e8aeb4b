import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { WebhookRepository } from './webhook.repository.js';

const INTERVAL_MS = 60 * 60_000;

/** Hourly: deliveries delivered or failed longer than WEBHOOK_RETENTION_DAYS ago are purged with their attempts. */
@Injectable()
export class WebhookHousekeepingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookHousekeepingService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly webhooks: WebhookRepository,
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
      return await this.webhooks.purgeFinishedBefore(new Date(Date.now() - this.config.webhooks.retentionDays * 86_400_000));
    } catch (error) {
      this.logger.warn(`webhook housekeeping failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
