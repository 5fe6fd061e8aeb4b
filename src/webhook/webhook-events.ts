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

/** The `token` object of a token event (also a rotation's `newToken`): id, identity, roles and dates, nothing secret. */
export function tokenData(token: TokenEventSubject): Record<string, unknown> {
  return {
    id: token.id,
    identity: { id: token.identity.id, name: token.identity.name },
    roles: [...token.roles],
    created: token.createdAt.toISOString(),
    expiration: token.expiresAt?.toISOString() ?? null,
    revokedDate: token.revokedAt?.toISOString() ?? null,
    description: token.description ?? '',
  };
}

export function tokenEventData(token: TokenEventSubject, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { token: tokenData(token), ...extra };
}

/** Who made a change, as events name them (`by`): null when the server itself did (housekeeping, a cascade at start-up). */
export function actorData(actor: { identityId: number; name: string } | undefined): { id: number; name: string } | null {
  return actor === undefined ? null : { id: actor.identityId, name: actor.name };
}

/** Where and how a revoked or deleted token was presented (`apptoken.revoked_used`). */
export interface TokenUse {
  /** The client's address as the server judged it (trusted proxies applied). */
  address: string;
  /** Which check turned it away: a Bearer request or the forward-auth gateway (an introspection asks about a token, it does not use it). */
  via: 'bearer' | 'forward-auth';
  at: Date;
}

export function revokedUseEventData(token: TokenEventSubject, use: TokenUse, deleted: { deletedAt: Date } | undefined): Record<string, unknown> {
  return tokenEventData(token, {
    presented: { address: use.address, via: use.via, at: use.at.toISOString() },
    deleted: deleted !== undefined,
    deletedDate: deleted?.deletedAt.toISOString() ?? null,
  });
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
