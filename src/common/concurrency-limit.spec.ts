import { describe, expect, it } from '@jest/globals';
import { BusyException, ConcurrencyLimit } from './concurrency-limit.js';

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('ConcurrencyLimit', () => {
  it('runs at most maxRunning at once, queues maxWaiting in arrival order, and refuses the rest with 503 Busy', async () => {
    const limit = new ConcurrencyLimit(2, 2);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      limit.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    expect([limit.inProgress, limit.queued]).toEqual([2, 2]);
    await expect(runs[4]).rejects.toBeInstanceOf(BusyException);
    gates[1].open();
    await runs[1];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs.slice(0, 4))).toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect([limit.inProgress, limit.queued]).toEqual([0, 0]);
  });

  it('frees its place when the work fails', async () => {
    const limit = new ConcurrencyLimit(1, 0);
    await expect(limit.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit.run(() => Promise.resolve('next'))).toBe('next');
  });
});
