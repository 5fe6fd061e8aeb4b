import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AuditAction } from '../audit/audit.service.js';
import type { AppConfig } from '../config/app-config.js';
import { outsideRequest } from '../common/logging.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Outbox } from '../database/outbox.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { signatureHeader } from './webhook-signature.js';
import { WebhookSender, type SendResult } from './webhook-sender.js';
import { WebhookRepository, type ClaimedDelivery } from './webhook.repository.js';
import { UnitOfWork } from '../database/unit-of-work.js';

/** Deliveries in flight per instance: enough to keep a slow receiver from holding up the rest. */
export const MAX_IN_FLIGHT = 4;
/** Other instances' rows and due retries are looked for this often; this instance's own wake it at once. */
const POLL_MS = 1000;
/** A claim lasts the attempt's timeout and this much more; a claim by a process that died is retried after it. */
const LEASE_MARGIN_SECONDS = 10;
/** On shutdown, attempts in flight get this long to finish before they are interrupted (and retried later). */
const SHUTDOWN_WAIT_MS = 3000;

/**
 * Seconds before attempt n + 1, after attempt n failed: Standard Webhooks' example schedule (5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 14 h...), each with up to 10 % of random jitter, never past 24 h after the event (then one
 * last attempt, and failed).
 */
export const RETRY_SCHEDULE_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600];

export function retryDelaySeconds(attempt: number, retryAfterSeconds: number | undefined, random = Math.random()): number {
  const base = RETRY_SCHEDULE_SECONDS[Math.min(attempt, RETRY_SCHEDULE_SECONDS.length) - 1];
  const jittered = base * (1 + 0.1 * random);
  return Math.max(jittered, Math.min(retryAfterSeconds ?? 0, 24 * 3600));
}

/**
 * Delivers the outbox (webhook_delivery): claims due rows with FOR UPDATE SKIP LOCKED, so instances sharing the
 * database never make the same attempt twice; POSTs each, signed per Standard Webhooks; records the attempt and
 * settles the delivery (delivered on 2xx; otherwise retried on the schedule, failed after 24 h; a 410 Gone
 * disables the webhook). Woken at once by this instance's commits, and every second for the rest.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly inFlight = new Set<Promise<void>>();
  /** Webhooks with an attempt in flight here: one at a time each, so a receiver that hangs holds one slot, not all. */
  private readonly busy = new Map<number, number>();
  private readonly shutdown = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private claiming = false;
  private again = false;
  private stopped = true;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: WebhookRepository,
    private readonly sender: WebhookSender,
    private readonly outbox: Outbox,
    private readonly work: UnitOfWork,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.stopped = false;
    // A delivery woken by a request's commit is not that request's: its lines carry no request id.
    this.unsubscribe = this.outbox.onCommitted(() => outsideRequest(() => this.wake()));
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.timer.unref();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    if (this.inFlight.size === 0) return;
    const waited = setTimeout(() => this.shutdown.abort(new Error('shutting down')), SHUTDOWN_WAIT_MS);
    await Promise.allSettled([...this.inFlight]);
    clearTimeout(waited);
  }

  /** Claims what is due, up to the free slots; a wake during a claim claims again after it. */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    const free = MAX_IN_FLIGHT - this.inFlight.size;
    if (free <= 0) return;
    this.claiming = true;
    this.again = false;
    // One at a time, each for a webhook not busy here: a batch ordered by due time alone gave every slot to
    // the webhook with the oldest backlog, and one receiver that never answered stalled all the others (found
    // from outside). A claim that found one may have left more behind.
    this.deliveries
      .claim(1, this.config.webhooks.timeoutSeconds + LEASE_MARGIN_SECONDS, [...this.busy.keys()])
      .then((claimed) => {
        for (const delivery of claimed) this.start(delivery);
        if (claimed.length > 0 && free > claimed.length) this.again = true;
      })
      .catch((error: unknown) => this.logger.warn(`webhook claim failed: ${(error as Error).message}`))
      .finally(() => {
        this.claiming = false;
        if (this.again) setImmediate(() => this.wake());
      });
  }

  private start(delivery: ClaimedDelivery): void {
    const webhookId = Number(delivery.webhook_id);
    this.busy.set(webhookId, (this.busy.get(webhookId) ?? 0) + 1);
    const running = this.deliver(delivery)
      .catch((error: unknown) => this.logger.warn(`webhook delivery ${delivery.message_id} could not be recorded: ${(error as Error).message}`))
      .finally(() => {
        this.inFlight.delete(running);
        const left = (this.busy.get(webhookId) ?? 1) - 1;
        if (left > 0) this.busy.set(webhookId, left);
        else this.busy.delete(webhookId);
        this.wake();
      });
    this.inFlight.add(running);
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const at = new Date();
    const timestamp = Math.floor(at.getTime() / 1000);
    const secrets = delivery.previous_secret === null ? [delivery.secret] : [delivery.secret, delivery.previous_secret];
    const headers = {
      'content-type': 'application/json',
      'webhook-id': delivery.message_id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(secrets, delivery.message_id, timestamp, delivery.payload),
    };
    const result = await this.sender.send(delivery.url, headers, delivery.payload, this.shutdown.signal);
    const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const gone = result.statusCode === 410;
    const status = await this.deliveries.record({
      deliveryId: delivery.id,
      attempt: delivery.attempts,
      at,
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      responseBody: result.responseBody,
      error: gone ? 'receiver answered 410 Gone: webhook disabled' : result.error,
      delivered,
      final: gone,
      retryInSeconds: retryDelaySeconds(delivery.attempts, result.retryAfterSeconds),
    });
    this.metrics.webhookAttempt(delivered ? 'delivered' : status === 'failed' ? 'failed' : 'retry');
    if (!delivered) this.logFailure(delivery, result, status);
    if (gone) await this.disableGone(delivery.webhook_id);
  }

  private logFailure(delivery: ClaimedDelivery, result: SendResult, status: string | undefined): void {
    const why = result.statusCode === null ? result.error : `HTTP ${result.statusCode}`;
    const next = status === 'failed' ? 'giving up' : status === 'pending' ? 'will retry' : 'claimed again elsewhere';
    this.logger.warn(`webhook ${delivery.webhook_id} delivery ${delivery.message_id} attempt ${delivery.attempts} failed (${why}); ${next}`);
  }

  /** Standard Webhooks: 410 Gone means the receiver wants nothing more. */
  private async disableGone(webhookId: number): Promise<void> {
    await this.work.run(async (tx) => {
      const webhook = await this.deliveries.getForUpdate(tx.manager, webhookId);
      if (!webhook?.enabled) return;
      await this.deliveries.update(tx.manager, { ...webhook, enabled: false });
      const cancelled = await this.deliveries.failPending(tx.manager, webhookId);
      await tx.audit({ action: AuditAction.WebhookUpdated, detail: { webhook: { id: webhookId, url: webhook.url }, enabled: false, reason: 'the receiver answered 410 Gone', cancelledDeliveries: cancelled } });
    });
  }
}
