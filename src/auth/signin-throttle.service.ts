import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, type Repository } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { throttleAddressKey } from './client-address.js';
import { SigninFailureEntity } from './signin-failure.entity.js';

/**
 * Sign-in throttling on failures, counted in PostgreSQL so every instance behind a load balancer
 * shares the count (an IPv6 client by its /64). Past the limit for a user name or an address, attempts get 429 without the
 * password being checked and without being counted, so a lock-out ends at most one window after
 * the failures that caused it. Each attempt holds its place while its password is checked, so a
 * parallel burst is limited like a sequence. (@nestjs/throttler counts requests per instance, not failures.)
 */
@Injectable()
export class SigninThrottleService {
  constructor(
    @InjectRepository(SigninFailureEntity) private readonly failures: Repository<SigninFailureEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Takes a place for one sign-in attempt, counted as a failure until {@link release}: concurrent attempts
   * see each other, so a burst cannot have more passwords checked than the limit allows. Answers the
   * seconds to wait instead when the user name or the address is over its limit (then nothing is kept).
   */
  async reserve(usernameKey: Buffer, clientAddress: string): Promise<{ attempt: string } | { retryAfterSeconds: number }> {
    const address = throttleAddressKey(clientAddress);
    const [{ id }] = (await this.failures.query('INSERT INTO signin_failure (username_key, address) VALUES ($1, $2) RETURNING id', [usernameKey, address])) as Array<{ id: string }>;
    const retryAfterSeconds = await this.retryAfterSeconds(usernameKey, address, id);
    if (retryAfterSeconds === 0) return { attempt: id };
    await this.release(id);
    return { retryAfterSeconds };
  }

  /** The attempt succeeded: it is not a failure. */
  async release(attempt: string): Promise<void> {
    // Plain SQL: every sign-in runs it, and TypeORM's delete builder cost more CPU than the round trip.
    await this.failures.query('DELETE FROM signin_failure WHERE id = $1', [attempt]);
  }

  /** Seconds until the other attempts in the window fall under both limits; 0 when they are under now. */
  private async retryAfterSeconds(usernameKey: Buffer, address: string, own: string): Promise<number> {
    const { maxFailuresPerUser, maxFailuresPerAddress, windowSeconds } = this.config.signin;
    // The n-th newest other attempt of each kind: while it is inside the window, the limit is reached.
    const [row] = (await this.failures.query(
      `SELECT
         (SELECT at FROM signin_failure WHERE username_key = $1 AND id <> $6 AND at > now() - make_interval(secs => $3)
           ORDER BY at DESC OFFSET $4 - 1 LIMIT 1) AS user_limit_at,
         (SELECT at FROM signin_failure WHERE address = $2 AND id <> $6 AND at > now() - make_interval(secs => $3)
           ORDER BY at DESC OFFSET $5 - 1 LIMIT 1) AS address_limit_at,
         now() AS now`,
      [usernameKey, address, windowSeconds, maxFailuresPerUser, maxFailuresPerAddress, own],
    )) as Array<{ user_limit_at: Date | null; address_limit_at: Date | null; now: Date }>;
    const limitedSince = [row.user_limit_at, row.address_limit_at].filter((at): at is Date => at !== null).map((at) => at.getTime());
    if (limitedSince.length === 0) return 0;
    const until = Math.max(...limitedSince) + windowSeconds * 1000;
    return Math.max(1, Math.ceil((until - row.now.getTime()) / 1000));
  }

  async purgeExpired(): Promise<number> {
    const cutoff = new Date(Date.now() - this.config.signin.windowSeconds * 1000);
    const result = await this.failures.delete({ at: LessThan(cutoff) });
    return result.affected ?? 0;
  }
}
