import { randomUUID } from 'node:crypto';
import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { AuditAction } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { pageWindow } from '../common/pagination.js';
import { Outbox } from '../database/outbox.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type {
  CreateWebhookDto,
  ListDeliveriesQueryDto,
  ListWebhooksQueryDto,
  UpdateWebhookDto,
  WebhookDeliveryDto,
  WebhookDto,
  WebhookEventTypeDto,
  WebhookWithSecretDto,
} from './dto/webhook.dto.js';
import { ALL_EVENTS } from './dto/webhook.dto.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.js';
import { generateSecret, secretKey } from './webhook-signature.js';
import { WebhookSender, WebhookUrlRefused } from './webhook-sender.js';
import { WebhookRepository, type AttemptRow, type DeliveryRow, type WebhookRow } from './webhook.repository.js';

/** How long a replaced secret keeps signing beside the new one (receivers switch over meanwhile). */
const PREVIOUS_SECRET_HOURS = 24;

/** One line per event type, for the console and scripts (GET /api/v1/webhook/events). */
export const WEBHOOK_EVENT_DESCRIPTIONS: Record<WebhookEventType, string> = {
  'apptoken.granted': 'A token was granted (or created by a rotation or a migration).',
  'apptoken.revoked': 'A token was revoked (by a user, a rotation ending, or with the token it was granted with).',
  'apptoken.deleted': 'A token was deleted.',
  'apptoken.rotated': 'A token was rotated: the new token and when the old one ends.',
  'apptoken.expiring': 'A token expires within WEBHOOK_EXPIRING_DAYS (sent once per token).',
  'apptoken.revoked_used': 'A revoked or deleted token was presented (at most once a minute per token).',
  'identity.created': 'An identity was created.',
  'identity.deleted': 'An identity was deleted.',
  'identity.roles_changed': 'An identity\'s roles changed.',
};

export const WEBHOOK_TEST_EVENT = 'webhook.test';

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/** Never the secret: that is shown only by the answer that creates it. */
export function toWebhookDto(row: WebhookRow, now = Date.now()): WebhookDto {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    previousSecretExpires: row.previous_secret !== null && row.previous_secret_until !== null && row.previous_secret_until.getTime() > now ? row.previous_secret_until.toISOString() : null,
    created: row.created_at.toISOString(),
    updated: row.updated_at.toISOString(),
  };
}

/** What the audit log keeps of a webhook: no secret. */
function audited(row: WebhookRow): Record<string, unknown> {
  return { id: row.id, url: row.url, events: row.events, description: row.description, enabled: row.enabled };
}

function toDeliveryDto(row: DeliveryRow, attempts: AttemptRow[]): WebhookDeliveryDto {
  return {
    id: row.id,
    messageId: row.message_id,
    eventType: row.event_type,
    status: row.status,
    attemptCount: row.attempts,
    nextAttempt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    created: row.created_at.toISOString(),
    completed: iso(row.completed_at),
    attempts: attempts.map((a) => ({ attempt: a.attempt, at: a.at.toISOString(), statusCode: a.status_code, responseBody: a.response_body, error: a.error, durationMs: a.duration_ms })),
  };
}

/** `*` alone stands for everything; otherwise the named types, once each, in the catalogue's order. */
function normalizeEvents(events: string[]): string[] {
  if (events.includes(ALL_EVENTS)) return [ALL_EVENTS];
  return WEBHOOK_EVENT_TYPES.filter((type) => events.includes(type));
}

function validSecret(secret: string): string {
  try {
    secretKey(secret);
  } catch (error) {
    throw new BadRequestException((error as Error).message);
  }
  return secret;
}

/** Webhook subscriptions (Administrators): CRUD, their deliveries, and a test event. Every change is audited. */
@Injectable()
export class WebhookService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly sender: WebhookSender,
    private readonly work: UnitOfWork,
    private readonly outbox: Outbox,
  ) {}

  eventTypes(): WebhookEventTypeDto[] {
    return WEBHOOK_EVENT_TYPES.map((type) => ({ type, description: WEBHOOK_EVENT_DESCRIPTIONS[type] }));
  }

  async list(query: ListWebhooksQueryDto): Promise<[WebhookDto[], number]> {
    const { skip, take } = pageWindow(query);
    const [rows, total] = await this.webhooks.list(skip, take);
    return [rows.map((row) => toWebhookDto(row)), total];
  }

  async get(id: number): Promise<WebhookDto> {
    return toWebhookDto(await this.found(await this.webhooks.get(id), id));
  }

  async create(actor: Principal, dto: CreateWebhookDto, address: string): Promise<WebhookWithSecretDto> {
    const url = await this.allowedUrl(dto.url);
    const secret = dto.secret === undefined ? generateSecret() : validSecret(dto.secret);
    const row = await this.work.run(async (tx) => {
      const created = await this.webhooks.insert(tx.manager, { url, events: normalizeEvents(dto.events), secret, description: dto.description ?? '', enabled: dto.enabled ?? true });
      await tx.audit({ action: AuditAction.WebhookCreated, actor, address, detail: { webhook: audited(created), secretGenerated: dto.secret === undefined } });
      return created;
    });
    return { ...toWebhookDto(row), secret };
  }

  async update(actor: Principal, id: number, dto: UpdateWebhookDto, address: string): Promise<WebhookDto | WebhookWithSecretDto> {
    if (dto.secret !== undefined && dto.rotateSecret === true) throw new BadRequestException('give either a new secret or rotateSecret: true, not both');
    const url = dto.url === undefined ? undefined : await this.allowedUrl(dto.url);
    const newSecret = dto.secret !== undefined ? validSecret(dto.secret) : dto.rotateSecret === true ? generateSecret() : undefined;
    const row = await this.work.run(async (tx) => {
      const before = this.found(await this.webhooks.getForUpdate(tx.manager, id), id);
      const next: WebhookRow = {
        ...before,
        url: url ?? before.url,
        events: dto.events === undefined ? before.events : normalizeEvents(dto.events),
        description: dto.description ?? before.description,
        enabled: dto.enabled ?? before.enabled,
      };
      if (newSecret !== undefined && newSecret !== before.secret) {
        next.previous_secret = before.secret;
        next.previous_secret_until = new Date(Date.now() + PREVIOUS_SECRET_HOURS * 3600_000);
        next.secret = newSecret;
      }
      const saved = await this.webhooks.update(tx.manager, next);
      const cancelled = before.enabled && !saved.enabled ? await this.webhooks.failPending(tx.manager, id) : 0;
      await tx.audit({
        action: AuditAction.WebhookUpdated,
        actor,
        address,
        detail: { before: audited(before), after: audited(saved), secretChanged: newSecret !== undefined, ...(cancelled > 0 ? { cancelledDeliveries: cancelled } : {}) },
      });
      return saved;
    });
    return newSecret === undefined ? toWebhookDto(row) : { ...toWebhookDto(row), secret: newSecret };
  }

  async delete(actor: Principal, id: number, address: string): Promise<void> {
    await this.work.run(async (tx) => {
      const webhook = this.found(await this.webhooks.getForUpdate(tx.manager, id), id);
      await this.webhooks.delete(tx.manager, id);
      await tx.audit({ action: AuditAction.WebhookDeleted, actor, address, detail: { webhook: audited(webhook) } });
    });
  }

  async deliveries(id: number, query: ListDeliveriesQueryDto): Promise<[WebhookDeliveryDto[], number]> {
    this.found(await this.webhooks.get(id), id);
    const { skip, take } = pageWindow(query);
    const [rows, attempts, total] = await this.webhooks.deliveries(id, query.status, skip, take);
    return [rows.map((row) => toDeliveryDto(row, attempts.filter((a) => a.delivery_id === row.id))), total];
  }

  /**
   * Queues a `webhook.test` event for this webhook alone, through the outbox like any other (signed, retried,
   * listed in the deliveries), whatever events it subscribes to. A disabled webhook is refused: it would never be sent.
   */
  async test(actor: Principal, id: number, address: string): Promise<{ messageId: string }> {
    const messageId = `msg_${randomUUID().replaceAll('-', '')}`;
    await this.work.run(async (tx) => {
      const webhook = this.found(await this.webhooks.getForUpdate(tx.manager, id), id);
      if (!webhook.enabled) throw new BadRequestException(`webhook ${id} is disabled; enable it to test it`);
      const body = JSON.stringify({ type: WEBHOOK_TEST_EVENT, timestamp: new Date().toISOString(), data: { webhook: { id: webhook.id, url: webhook.url }, actor: { name: actor.name } } });
      await this.webhooks.enqueue(tx.manager, id, { id: messageId, type: WEBHOOK_TEST_EVENT, body });
      await tx.audit({ action: AuditAction.WebhookTested, actor, address, detail: { webhook: audited(webhook), messageId } });
    });
    this.outbox.committed();
    return { messageId };
  }

  /** The URL as given, when its form and every address its host has now are allowed; else 400. */
  private async allowedUrl(url: string): Promise<string> {
    try {
      await this.sender.check(url);
    } catch (error) {
      if (error instanceof WebhookUrlRefused) throw new BadRequestException(`url refused: ${error.message}`);
      throw error;
    }
    return url;
  }

  private found(row: WebhookRow | undefined, id: number): WebhookRow {
    if (row === undefined) throw new NotFoundException(`webhook ${id} not found`);
    return row;
  }
}
