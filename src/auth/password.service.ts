import { Injectable } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { availableParallelism } from 'node:os';
import { ConcurrencyLimit } from '../common/concurrency-limit.js';

export { BusyException } from '../common/concurrency-limit.js';

/** OWASP's argon2id floor: 19 MiB, 2 passes, 1 lane (about 20 ms here). */
export const ARGON2_OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/**
 * How many hashes may run at once: as many as the cores, at most 3, so a flood of sign-ins never takes all four
 * threads of libuv's pool, which file and DNS work share. On 2 cores that is 2: with 1, sign-ins ran at about
 * half a bare argon2id verify's rate (one core idle while others queued); the event loop still gets its share of
 * the cores from the OS scheduler (the flood spec holds identity/my under 10 x its idle p99 meanwhile).
 */
export const HASHING_CONCURRENCY = Math.max(1, Math.min(availableParallelism(), 3));
/** How many may wait for a turn before callers are told to come back. */
export const HASHING_QUEUE = 64;

/**
 * argon2id hashing with a cap on concurrent work: a flood of sign-ins gets 503 with Retry-After
 * instead of queueing behind the thread pool and starving every other request.
 */
@Injectable()
export class PasswordService {
  private readonly limit = new ConcurrencyLimit(HASHING_CONCURRENCY, HASHING_QUEUE);
  /** Verified when the user is unknown or has no password, so both paths cost the same. */
  private readonly dummyHash: Promise<string> = hash('dummy password for timing equality', ARGON2_OPTIONS);

  /** argon2 work in progress and waiting for a turn (for metrics). */
  get queue(): { running: number; waiting: number } {
    return { running: this.limit.inProgress, waiting: this.limit.queued };
  }

  async hash(password: string): Promise<string> {
    return this.limit.run(() => hash(password, ARGON2_OPTIONS));
  }

  /** True when `password` matches `passwordHash`; with no hash, spends the same time and returns false. */
  async verify(passwordHash: string | null, password: string): Promise<boolean> {
    const target = passwordHash ?? (await this.dummyHash);
    const matches = await this.limit.run(() => verify(target, password).catch(() => false));
    return passwordHash !== null && matches;
  }
}
