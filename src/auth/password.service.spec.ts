import { describe, expect, it } from '@jest/globals';
import { BusyException, PasswordService } from './password.service.js';

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

  it('answers a flood past 4 running and 64 waiting with 503 Busy instead of queueing it', async () => {
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => passwords.hash('flood-password')));
    const busy = results.filter((r) => r.status === 'rejected');
    expect(busy).toHaveLength(32);
    expect((busy[0] as PromiseRejectedResult).reason).toBeInstanceOf(BusyException);
    expect(((busy[0] as PromiseRejectedResult).reason as BusyException).getStatus()).toBe(503);
    // Once the flood drains, work is accepted again.
    expect(await passwords.hash('after-the-flood')).toMatch(/^\$argon2id/);
  });
});
