import { randomUUID } from 'node:crypto';

/** What a webhook can subscribe to (issue 11). */
export const WEBHOOK_EVENT_TYPES = [
  'apptoken.granted',
  'apptoken.revoked',
  'apptoken.deleted',
  'apptoken.rotated',
  'apptoken.expiring',
  'apptoken.revoked_used',
  'identity.created',
  'identity.deleted',
  'identity.roles_changed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** An event a change emits: written to the outbox in the change's own transaction. */
export interface WebhookEvent {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

/** The token a token event is about: never its value, nor its hash. */
export interface TokenEventSubject {
  id: number;
  identity: { id: number; name: string };
  roles: readonly string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt?: Date | null;
  description?: string;
}

export function tokenEventData(token: TokenEventSubject, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    token: {
      id: token.id,
      identity: { id: token.identity.id, name: token.identity.name },
      roles: [...token.roles],
      created: token.createdAt.toISOString(),
      expiration: token.expiresAt?.toISOString() ?? null,
      revokedDate: token.revokedAt?.toISOString() ?? null,
      description: token.description ?? '',
    },
    ...extra,
  };
}

export function identityEventData(identity: { id: number; name: string; source?: string; roles?: readonly string[] }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    identity: { id: identity.id, name: identity.name, ...(identity.source === undefined ? {} : { source: identity.source }), ...(identity.roles === undefined ? {} : { roles: [...identity.roles] }) },
    ...extra,
  };
}

/**
 * The message as delivered (Standard Webhooks' payload shape: type, timestamp, data), serialised once: the
 * stored text is the body signed and sent, byte for byte, on every attempt.
 */
export interface OutboxMessage {
  /** `webhook-id`: the same on every attempt and for every webhook that receives this event. */
  id: string;
  type: WebhookEventType;
  body: string;
}

export function outboxMessageOf(event: WebhookEvent, at = new Date()): OutboxMessage {
  return {
    id: `msg_${randomUUID().replaceAll('-', '')}`,
    type: event.type,
    body: JSON.stringify({ type: event.type, timestamp: at.toISOString(), data: event.data }),
  };
}
