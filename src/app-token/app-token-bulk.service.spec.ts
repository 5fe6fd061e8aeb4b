import { describe, expect, it } from '@jest/globals';
import { QueryFailedError } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ApiException } from '../common/error-code.js';
import type { UnitOfWork } from '../database/unit-of-work.js';
import type { AppTokenBulkRepository } from './app-token-bulk.repository.js';
import { AppTokenBulkService } from './app-token-bulk.service.js';
import type { AppTokenRepository } from './app-token.repository.js';

const admin = { identityId: 1, name: 'admin', source: 'local', roles: ['Administrator'], via: 'session' } as unknown as Principal;
const conflict = (code: string) => new QueryFailedError('UPDATE app_token ...', [], Object.assign(new Error('deadlock detected'), { code }));
const done = { count: 1, ids: [7], descendantIds: [], skippedIds: [], dryRun: false };

/** A unit of work that fails with `failures` in turn, then answers `done`; counts its runs. */
function flakyWork(failures: Error[]) {
  let runs = 0;
  const work = {
    run: async () => {
      runs++;
      const failure = failures.shift();
      if (failure) throw failure;
      return done;
    },
  } as unknown as UnitOfWork;
  return { work, runs: () => runs };
}

const service = (work: UnitOfWork) => new AppTokenBulkService(work, {} as AppTokenBulkRepository, {} as AppTokenRepository);

describe('AppTokenBulkService', () => {
  it('runs a bulk change again when PostgreSQL rolled it back as a deadlock or serialization victim', async () => {
    const { work, runs } = flakyWork([conflict('40P01'), conflict('40001')]);
    await expect(service(work).revoke(admin, { ids: [7] }, '127.0.0.1')).resolves.toEqual(done);
    expect(runs()).toBe(3);
  });

  it('answers 409 (never 500) after three lost races, and passes any other error through at once', async () => {
    const lost = flakyWork([conflict('40P01'), conflict('40P01'), conflict('40P01')]);
    const error = await service(lost.work).delete(admin, { ids: [7] }, '127.0.0.1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException).getStatus()).toBe(409);
    expect(lost.runs()).toBe(3);
    const other = flakyWork([new Error('boom')]);
    await expect(service(other.work).revoke(admin, { ids: [7] }, '127.0.0.1')).rejects.toThrow('boom');
    expect(other.runs()).toBe(1);
  });

  it('refuses a request with no filter (dryRun alone is none), and revokedOnly on a bulk revoke, before any work', async () => {
    const { work, runs } = flakyWork([]);
    await expect(service(work).revoke(admin, { dryRun: true }, '')).rejects.toThrow(/give at least one filter/);
    await expect(service(work).delete(admin, { expiredOnly: false }, '')).rejects.toThrow(/give at least one filter/);
    await expect(service(work).revoke(admin, { revokedOnly: true }, '')).rejects.toThrow(/use it with bulk-delete/);
    expect(runs()).toBe(0);
  });
});
