import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { outboxMessageOf, type WebhookEvent } from '../webhook/webhook-events.js';
import { SqlPool, type Statement } from './sql-pool.js';

/**
 * SQL: webhook `alias` is enabled and subscribes to the event type `eventType` (an SQL expression), by name or
 * with `*`. The one definition, for the outbox and for the scans that ask whether anyone listens.
 */
export function subscribes(alias: string, eventType: string): string {
  return `${alias}.enabled AND (${eventType} = ANY (${alias}.events) OR '*' = ANY (${alias}.events))`;
}

/**
 * One pending delivery per event and enabled webhook that subscribes to it (by name, or to `*`: every event type,
 * those added later too), inserted in one statement. Events no webhook wants leave nothing behind.
 */
const ENQUEUE: Statement = {
  name: 'apptoken_outbox_enqueue',
  text: `INSERT INTO webhook_delivery (webhook_id, message_id, event_type, payload)
         SELECT w.id, e.message_id, e.event_type, e.payload
           FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS e(message_id, event_type, payload, n)
           JOIN webhook w ON ${subscribes('w', 'e.event_type')}
          ORDER BY e.n, w.id`,
};

/**
 * The transactional outbox: a change's events are written in the change's own transaction (UnitOfWork), so a
 * committed change always has its deliveries queued and a rolled-back one never does, whatever happens to the
 * process after the commit. Delivery is WebhookDispatcher's, on whichever instance claims the row.
 */
@Injectable()
export class Outbox {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly sql: SqlPool) {}

  async write(manager: EntityManager, events: readonly WebhookEvent[]): Promise<void> {
    if (events.length === 0) return;
    const messages = events.map((event) => outboxMessageOf(event));
    await this.sql.rowsIn(manager, ENQUEUE, [messages.map((m) => m.id), messages.map((m) => m.type), messages.map((m) => m.body)]);
  }

  /** Called after a transaction that wrote events committed: wakes this instance's dispatcher at once. */
  committed(): void {
    for (const listener of this.listeners) listener();
  }

  onCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
