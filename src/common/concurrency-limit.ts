import { ServiceUnavailableException } from '@nestjs/common';

export class BusyException extends ServiceUnavailableException {
  readonly retryAfterSeconds = 1;
  constructor() {
    super('Too many sign-ins in progress; retry in a second');
  }
}

/**
 * At most `maxRunning` calls of {@link run} at once, at most `maxWaiting` queued (first come, first
 * served); past that, 503 Busy with Retry-After at once instead of an ever longer queue.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly maxRunning: number,
    readonly maxWaiting: number,
  ) {}

  /** Calls running now. */
  get inProgress(): number {
    return this.running;
  }

  /** Calls waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxRunning) {
      if (this.waiting.length >= this.maxWaiting) throw new BusyException();
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
