import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { SqlPool, type Statement } from '../database/sql-pool.js';

export interface WebhookRow {
  id: number;
  url: string;
  events: string[];
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  description: string;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: string;
  message_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  created_at: Date;
  completed_at: Date | null;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: Date;
  duration_ms: number;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
}

/** A delivery claimed for one attempt, with what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  webhook_id: number;
  message_id: string;
  payload: string;
  /** This attempt's number (1 for the first). */
  attempts: number;
  url: string;
  secret: string;
  /** The secret a PUT replaced, while it still signs beside the new one. */
  previous_secret: string | null;
}

export interface AttemptOutcome {
  deliveryId: string;
  attempt: number;
  at: Date;
  durationMs: number;
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
  delivered: boolean;
  /** Give up now, whatever the schedule says (410 Gone). */
  final: boolean;
  /** Seconds until the next attempt, when this one failed. */
  retryInSeconds: number;
}

/** How long a delivery may stay pending: then one last attempt, and failed. */
export const DELIVERY_WINDOW_HOURS = 24;

const COLUMNS = 'id, url, events, secret, previous_secret, previous_secret_until, description, enabled, created_at, updated_at';

/**
 * Due deliveries of enabled webhooks, claimed for one attempt: their next attempt moves a lease ahead and
 * their attempt count up, in one statement. Rows another instance is claiming are skipped, not waited for; a
 * claim whose process died is due again when its lease ends.
 */
const CLAIM: Statement = {
  name: 'apptoken_webhook_claim',
  text: `WITH due AS (
           SELECT d.id FROM webhook_delivery d JOIN webhook w ON w.id = d.webhook_id
            WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND w.enabled AND d.webhook_id <> ALL ($3::int[])
            ORDER BY d.next_attempt_at LIMIT $1::int
              FOR UPDATE OF d SKIP LOCKED
         ), claimed AS (
           UPDATE webhook_delivery d SET next_attempt_at = now() + make_interval(secs => $2::float8), attempts = d.attempts + 1
             FROM due WHERE d.id = due.id
           RETURNING d.id, d.webhook_id, d.message_id, d.payload, d.attempts
         )
         SELECT c.id, c.webhook_id, c.message_id, c.payload, c.attempts, w.url, w.secret,
                CASE WHEN w.previous_secret_until > now() THEN w.previous_secret END AS previous_secret
           FROM claimed c JOIN webhook w ON w.id = c.webhook_id`,
};

/**
 * The attempt, and the delivery's new state: delivered, failed (given up, or past its window), or pending
 * until the next attempt (never later than the end of its window). Only the claim that made this attempt
 * may settle it: a process whose lease ran out and was claimed again leaves the row to the newer claim.
 */
const RECORD: Statement = {
  name: 'apptoken_webhook_record_attempt',
  text: `WITH attempt AS (
           INSERT INTO webhook_attempt (delivery_id, attempt, at, duration_ms, status_code, response_body, error)
           SELECT $1::bigint, $2::int, $3::timestamptz, $4::int, $5::int, $6::text, $7::text WHERE EXISTS (SELECT 1 FROM webhook_delivery WHERE id = $1::bigint)
         )
         UPDATE webhook_delivery SET
           status = CASE WHEN $8::boolean THEN 'delivered'
                         WHEN $9::boolean OR now() >= created_at + make_interval(hours => ${DELIVERY_WINDOW_HOURS}) THEN 'failed'
                         ELSE 'pending' END,
           next_attempt_at = CASE WHEN $8 OR $9 THEN next_attempt_at
                                  ELSE LEAST(now() + make_interval(secs => $10::float8), created_at + make_interval(hours => ${DELIVERY_WINDOW_HOURS})) END,
           completed_at = CASE WHEN $8 OR $9 OR now() >= created_at + make_interval(hours => ${DELIVERY_WINDOW_HOURS}) THEN now() END
         WHERE id = $1 AND status = 'pending' AND attempts = $2
         RETURNING status`,
};

/** Webhooks and their deliveries: the only code that reads or writes their tables. */
@Injectable()
export class WebhookRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: SqlPool,
  ) {}

  async list(skip: number, take: number): Promise<[WebhookRow[], number]> {
    const rows: WebhookRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM webhook ORDER BY id LIMIT $1 OFFSET $2`, [take, skip]);
    const [{ count }]: Array<{ count: number }> = await this.dataSource.query('SELECT count(*)::int AS count FROM webhook');
    return [rows, count];
  }

  async get(id: number, manager: EntityManager = this.dataSource.manager): Promise<WebhookRow | undefined> {
    const rows: WebhookRow[] = await manager.query(`SELECT ${COLUMNS} FROM webhook WHERE id = $1`, [id]);
    return rows[0];
  }

  /** The row, locked until the transaction ends (a change reads, judges and writes it). */
  async getForUpdate(manager: EntityManager, id: number): Promise<WebhookRow | undefined> {
    const rows: WebhookRow[] = await manager.query(`SELECT ${COLUMNS} FROM webhook WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0];
  }

  async insert(manager: EntityManager, webhook: Pick<WebhookRow, 'url' | 'events' | 'secret' | 'description' | 'enabled'>): Promise<WebhookRow> {
    const rows: WebhookRow[] = await manager.query(
      `INSERT INTO webhook (url, events, secret, description, enabled) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [webhook.url, webhook.events, webhook.secret, webhook.description, webhook.enabled],
    );
    return rows[0];
  }

  async update(manager: EntityManager, webhook: WebhookRow): Promise<WebhookRow> {
    // TypeORM answers an UPDATE or DELETE as [rows, count].
    const [rows]: [WebhookRow[], number] = await manager.query(
      `UPDATE webhook SET url = $2, events = $3, secret = $4, previous_secret = $5, previous_secret_until = $6, description = $7, enabled = $8, updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [webhook.id, webhook.url, webhook.events, webhook.secret, webhook.previous_secret, webhook.previous_secret_until, webhook.description, webhook.enabled],
    );
    return rows[0];
  }

  /** Deletes the webhook; its deliveries and their attempts go with it (cascade). */
  async delete(manager: EntityManager, id: number): Promise<void> {
    await manager.query('DELETE FROM webhook WHERE id = $1', [id]);
  }

  /** A disabled webhook receives nothing more: its pending deliveries end as failed. Returns how many. */
  async failPending(manager: EntityManager, webhookId: number): Promise<number> {
    const [, count]: [unknown[], number] = await manager.query(
      `UPDATE webhook_delivery SET status = 'failed', completed_at = now() WHERE webhook_id = $1 AND status = 'pending'`,
      [webhookId],
    );
    return count;
  }

  /** One delivery for this webhook only (a test event), outside the subscription's event list. */
  async enqueue(manager: EntityManager, webhookId: number, message: { id: string; type: string; body: string }): Promise<void> {
    await manager.query('INSERT INTO webhook_delivery (webhook_id, message_id, event_type, payload) VALUES ($1, $2, $3, $4)', [webhookId, message.id, message.type, message.body]);
  }

  async deliveries(webhookId: number, status: DeliveryStatus | undefined, skip: number, take: number): Promise<[DeliveryRow[], AttemptRow[], number]> {
    const filter = status === undefined ? '' : 'AND status = $4';
    const values: unknown[] = [webhookId, take, skip, ...(status === undefined ? [] : [status])];
    const rows: DeliveryRow[] = await this.dataSource.query(
      // Ordered by the bigint column, not the text alias (as text, "9" came before "11").
      `SELECT d.id::text AS id, d.message_id, d.event_type, d.status, d.attempts, d.next_attempt_at, d.created_at, d.completed_at
         FROM webhook_delivery d WHERE d.webhook_id = $1 ${filter.replace('status', 'd.status')} ORDER BY d.id DESC LIMIT $2 OFFSET $3`,
      values,
    );
    const [{ count }]: Array<{ count: number }> = await this.dataSource.query(
      `SELECT count(*)::int AS count FROM webhook_delivery WHERE webhook_id = $1 ${status === undefined ? '' : 'AND status = $2'}`,
      [webhookId, ...(status === undefined ? [] : [status])],
    );
    const attempts: AttemptRow[] =
      rows.length === 0
        ? []
        : await this.dataSource.query(
            `SELECT delivery_id::text, attempt, at, duration_ms, status_code, response_body, error FROM webhook_attempt
              WHERE delivery_id = ANY ($1::bigint[]) ORDER BY delivery_id, attempt, id`,
            [rows.map((row) => row.id)],
          );
    return [rows, attempts, count];
  }

  /** Up to `limit` due deliveries, none for the webhooks in `busy` (those this instance is sending to now). */
  claim(limit: number, leaseSeconds: number, busy: readonly number[] = []): Promise<ClaimedDelivery[]> {
    return this.sql.rows<ClaimedDelivery & { id: string }>(CLAIM, [limit, leaseSeconds, busy]).then((rows) => rows.map((row) => ({ ...row, id: String(row.id) })));
  }

  /** Returns the delivery's status after this attempt, or undefined when this claim no longer owns it. */
  async record(outcome: AttemptOutcome): Promise<DeliveryStatus | undefined> {
    const rows = await this.sql.rows<{ status: DeliveryStatus }>(RECORD, [
      outcome.deliveryId,
      outcome.attempt,
      outcome.at,
      outcome.durationMs,
      outcome.statusCode,
      outcome.responseBody,
      outcome.error,
      outcome.delivered,
      outcome.final,
      outcome.retryInSeconds,
    ]);
    return rows[0]?.status;
  }

  /** Delivered and failed deliveries finished before `before` (their attempts cascade). Returns how many. */
  async purgeFinishedBefore(before: Date): Promise<number> {
    const [, count]: [unknown[], number] = await this.dataSource.query(`DELETE FROM webhook_delivery WHERE status <> 'pending' AND completed_at < $1`, [before]);
    return count;
  }
}
