import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';

/** OWASP's argon2id floor: 19 MiB, 2 passes, 1 lane (about 20 ms here). */
export const ARGON2_OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/** How many hashes may run at once, and how many may wait, before callers are told to come back. */
const MAX_RUNNING = 4;
const MAX_WAITING = 64;

export class BusyException extends ServiceUnavailableException {
  readonly retryAfterSeconds = 1;
  constructor() {
    super('Too many sign-ins in progress; retry in a second');
  }
}

/**
 * argon2id hashing with a cap on concurrent work: a flood of sign-ins gets 503 with Retry-After
 * instead of queueing behind the thread pool and starving every other request.
 */
@Injectable()
export class PasswordService {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Verified when the user is unknown or has no password, so both paths cost the same. */
  private readonly dummyHash: Promise<string> = hash('dummy password for timing equality', ARGON2_OPTIONS);

  async hash(password: string): Promise<string> {
    return this.limited(() => hash(password, ARGON2_OPTIONS));
  }

  /** True when `password` matches `passwordHash`; with no hash, spends the same time and returns false. */
  async verify(passwordHash: string | null, password: string): Promise<boolean> {
    const target = passwordHash ?? (await this.dummyHash);
    const matches = await this.limited(() => verify(target, password).catch(() => false));
    return passwordHash !== null && matches;
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= MAX_RUNNING) {
      if (this.waiting.length >= MAX_WAITING) throw new BusyException();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
