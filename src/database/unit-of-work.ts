import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditService, type AuditRecord } from '../audit/audit.service.js';
import type { WebhookEvent } from '../webhook/webhook-events.js';
import { InvalidationService, type Echo, type Invalidation } from './invalidation.service.js';
import { Outbox } from './outbox.js';

/** What a change sees inside its unit of work. */
export interface Transaction {
  readonly manager: EntityManager;
  /** Declares what the change makes stale: announced (NOTIFY) as it commits, applied here right after. */
  invalidate(...events: Invalidation[]): void;
  /** Records the change in the audit log, in the same transaction. */
  audit(record: AuditRecord): Promise<void>;
  /** Queues webhook events: written to the outbox as the change commits, in the same transaction. */
  emit(...events: WebhookEvent[]): void;
}

export interface UnitOfWorkOptions {
  /** An advisory lock (database/locks.ts) held for the whole transaction. */
  lock?: number;
}

/**
 * The one way to change data: a transaction, its audit records, its webhook events (the outbox, same
 * transaction), the NOTIFY of what it invalidates, and the invalidation applied to this instance's caches once
 * it has committed. The steps cannot be taken apart: the manager exists only inside `run`, and what is declared with `invalidate` is published by
 * `run` itself, so a committed change can no longer forget its invalidation (a revoked token would stay
 * cached here for up to 5 minutes). Nothing is published when the work throws. A change that invalidates
 * answers once its NOTIFY has come back through this instance's listener (at most ECHO_TIMEOUT_MS), by when
 * PostgreSQL has handed it to every other instance too.
 */
@Injectable()
export class UnitOfWork {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly invalidation: InvalidationService,
    private readonly auditLog: AuditService,
    private readonly outbox: Outbox,
  ) {}

  async run<T>(work: (tx: Transaction) => Promise<T>, options: UnitOfWorkOptions = {}): Promise<T> {
    const events: Invalidation[] = [];
    const emitted: WebhookEvent[] = [];
    let open = true;
    let echo: Echo = { wait: () => Promise.resolve(), cancel: () => undefined };
    const result = await this.dataSource
      .transaction(async (manager) => {
        if (options.lock !== undefined) await manager.query('SELECT pg_advisory_xact_lock($1)', [options.lock]);
        const value = await work({
          manager,
          invalidate: (...declared) => {
            if (!open) throw new Error('invalidate() called after its unit of work ended');
            events.push(...declared);
          },
          audit: (record) => this.auditLog.record(record, manager),
          emit: (...declared) => {
            if (!open) throw new Error('emit() called after its unit of work ended');
            emitted.push(...declared);
          },
        });
        open = false;
        await this.outbox.write(manager, emitted);
        // Expected back before the commit, so an echo that arrives with it is not missed.
        echo = this.invalidation.expectEcho(sessionPid(manager), events);
        await this.invalidation.notify(manager, events);
        return value;
      })
      .catch((error: unknown) => {
        echo.cancel();
        throw error;
      })
      .finally(() => {
        open = false;
      });
    this.invalidation.apply(events);
    if (emitted.length > 0) this.outbox.committed();
    await echo.wait();
    return result;
  }
}

/** The PostgreSQL backend pid of the session a transaction runs on (pg's client learns it at connect). */
function sessionPid(manager: EntityManager): number | undefined {
  return (manager.queryRunner as unknown as { databaseConnection?: { processID?: number } } | undefined)?.databaseConnection?.processID;
}
