import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

const FLUSH_INTERVAL_MS = 60_000;

/**
 * Records when and from where each token was last used without a database write per request:
 * uses are noted in memory and written in one statement a minute (and at shutdown), off the request path.
 */
@Injectable()
export class LastUsedTracker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LastUsedTracker.name);
  private pending = new Map<number, { at: Date; address: string }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  touch(tokenId: number, address: string): void {
    this.pending.set(tokenId, { at: new Date(), address });
  }

  /** Writes what was noted since the last flush; never moves a token's last use backwards. */
  async flush(): Promise<number> {
    if (this.pending.size === 0) return 0;
    const batch = this.pending;
    this.pending = new Map();
    const ids = [...batch.keys()];
    try {
      await this.dataSource.query(
        `UPDATE app_token t SET last_used_at = v.at, last_used_address = v.address
           FROM (SELECT unnest($1::int[]) AS id, unnest($2::timestamptz[]) AS at, unnest($3::text[]) AS address) v
          WHERE t.id = v.id AND (t.last_used_at IS NULL OR t.last_used_at < v.at)`,
        [ids, ids.map((id) => batch.get(id)!.at), ids.map((id) => batch.get(id)!.address.slice(0, 64))],
      );
    } catch (error) {
      // Put the batch back unless newer uses replaced it; the next flush retries.
      for (const [id, use] of batch) if (!this.pending.has(id)) this.pending.set(id, use);
      this.logger.warn(`could not record token use: ${(error as Error).message}`);
      return 0;
    }
    return ids.length;
  }
}
