import { describe, expect, it } from '@jest/globals';
import { availableParallelism } from 'node:os';
import { BusyException, HASHING_CONCURRENCY, HASHING_QUEUE, PasswordService } from './password.service.js';

describe('PasswordService', () => {
  const passwords = new PasswordService();

  it('hashes with argon2id at 19 MiB, 2 passes, 1 lane, and verifies exactly the password given', async () => {
    const hash = await passwords.hash(' pass word ');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await passwords.verify(hash, ' pass word ')).toBe(true);
    expect(await passwords.verify(hash, 'pass word')).toBe(false);
  });

  it('spends a verification on a missing hash and says no', async () => {
    expect(await passwords.verify(null, 'anything')).toBe(false);
  });

  it('runs as many hashes at once as there are cores (one at least, at most 3 of libuv\'s 4 threads)', () => {
    expect(HASHING_CONCURRENCY).toBe(Math.max(1, Math.min(availableParallelism(), 3)));
  });

  it('answers a flood past its running and 64 waiting hashes with 503 Busy instead of queueing it', async () => {
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => passwords.hash('flood-password')));
    const busy = results.filter((r) => r.status === 'rejected');
    expect(HASHING_QUEUE).toBe(64);
    expect(busy).toHaveLength(100 - HASHING_CONCURRENCY - HASHING_QUEUE);
    expect((busy[0] as PromiseRejectedResult).reason).toBeInstanceOf(BusyException);
    expect(((busy[0] as PromiseRejectedResult).reason as BusyException).getStatus()).toBe(503);
    // Once the flood drains, work is accepted again.
    expect(await passwords.hash('after-the-flood')).toMatch(/^\$argon2id/);
  });
});
