import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SessionService } from './session.service.js';
import { SigninThrottleService } from './signin-throttle.service.js';

const INTERVAL_MS = 10 * 60_000;

/** Deletes ended sessions and sign-in failures older than the throttle window, every ten minutes. */
@Injectable()
export class SessionHousekeepingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SessionHousekeepingService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sessions: SessionService,
    private readonly throttle: SigninThrottleService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.run(), INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async run(): Promise<{ sessions: number; failures: number }> {
    try {
      const sessions = await this.sessions.purgeExpired();
      const failures = await this.throttle.purgeExpired();
      if (sessions + failures > 0) this.logger.debug(`purged ${sessions} sessions and ${failures} sign-in failures`);
      return { sessions, failures };
    } catch (error) {
      this.logger.warn(`housekeeping failed: ${(error as Error).message}`);
      return { sessions: 0, failures: 0 };
    }
  }
}
