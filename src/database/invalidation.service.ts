import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { EntityManager } from 'typeorm';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database-runtime.js';

/** What changed, in terms of what caches hold. */
export type Invalidation = { kind: 'token'; hash: string } | { kind: 'identity'; id: number } | { kind: 'endpoints' } | { kind: 'all' };

export const INVALIDATION_CHANNEL = 'apptoken_invalidation';

export function encodeInvalidation(event: Invalidation): string {
  if (event.kind === 'token') return `t:${event.hash}`;
  if (event.kind === 'identity') return `i:${event.id}`;
  return event.kind === 'endpoints' ? 'e' : '*';
}

export function decodeInvalidation(payload: string): Invalidation {
  if (payload.startsWith('t:')) return { kind: 'token', hash: payload.slice(2) };
  if (payload.startsWith('i:') && /^\d+$/.test(payload.slice(2))) return { kind: 'identity', id: Number(payload.slice(2)) };
  if (payload === 'e') return { kind: 'endpoints' };
  return { kind: 'all' };
}

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;
/**
 * The listener sends itself a NOTIFY this often and must hear it back within the timeout: a connection
 * that a NAT or load balancer dropped silently would otherwise look alive for hours (TCP keepalive),
 * while revocations made elsewhere never arrive.
 */
export const HEARTBEAT_INTERVAL_MS = 5000;
export const HEARTBEAT_TIMEOUT_MS = 3000;
const PING = 'p:';
/** The longest a change waits for its NOTIFY to come back through this instance's listener before answering. */
export const ECHO_TIMEOUT_MS = 500;

/** A change's NOTIFYs expected back through the listener, registered before its transaction commits. */
export interface Echo {
  /** Resolves when every payload has come back from the session that sent it, or after ECHO_TIMEOUT_MS. */
  wait(): Promise<void>;
  /** The change did not commit: nothing will come back. */
  cancel(): void;
}

const NO_ECHO: Echo = { wait: () => Promise.resolve(), cancel: () => undefined };

/**
 * Keeps every instance's caches honest. A change that can refuse a token is announced with
 * PostgreSQL NOTIFY inside the transaction that makes it (so it is delivered exactly when it commits),
 * applied here at once, and applied by every other instance on the same database when NOTIFY arrives.
 * While the LISTEN connection is down, {@link cacheable} is false and caches are bypassed; when it
 * comes back everything is flushed, since notifications sent meanwhile are lost.
 * On embedded PGlite (one process) invalidation is in-process only.
 */
@Injectable()
export class InvalidationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InvalidationService.name);
  private readonly subscribers = new Set<(event: Invalidation) => void>();
  private client: pg.Client | undefined;
  private listening = false;
  private stopped = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Bumped on every invalidation: a cache fill that started before a bump must not be stored. */
  private epochValue = 0;
  private readonly deadClients = new WeakSet<pg.Client>();
  private readonly instanceId = randomUUID();
  private heartbeat: NodeJS.Timeout | undefined;
  private heartbeatDeadline: NodeJS.Timeout | undefined;
  private pingSequence = 0;
  private lastProblem: string | undefined;
  /** Waiters for this instance's own notifications, by sending backend pid and payload. */
  private readonly echoes = new Map<string, Set<() => void>>();

  constructor(@Inject(DATABASE_RUNTIME) private readonly runtime: DatabaseRuntime) {}

  /** Whether caches may be used now: changes made on any instance are known to reach this one. */
  get cacheable(): boolean {
    return this.runtime.embedded || this.listening;
  }

  /** For readiness: `embedded` needs no listener; `down` means caches are bypassed (see {@link listenerProblem}). */
  get listenerState(): 'up' | 'down' | 'embedded' {
    if (this.runtime.embedded) return 'embedded';
    return this.listening ? 'up' : 'down';
  }

  /** Why the listener is down, while it is. */
  get listenerProblem(): string | undefined {
    return this.listening || this.runtime.embedded ? undefined : (this.lastProblem ?? 'not connected yet');
  }

  get epoch(): number {
    return this.epochValue;
  }

  subscribe(subscriber: (event: Invalidation) => void): void {
    this.subscribers.add(subscriber);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.runtime.embedded) await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeat);
    clearTimeout(this.heartbeatDeadline);
    this.listening = false;
    await this.client?.end().catch(() => undefined);
  }

  /** Announces changes from inside the transaction that makes them; they reach other instances on commit. */
  async notify(manager: EntityManager, events: readonly Invalidation[]): Promise<void> {
    if (this.runtime.embedded) return;
    for (const event of events) {
      await manager.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, encodeInvalidation(event)]);
    }
  }

  /**
   * Registers, before the transaction that sends them commits, the wait for `events` to come back through this
   * instance's listener from backend `processId` (the transaction's session). PostgreSQL hands a committed
   * notification to every listening session at the same moment, so once this instance's has come back, every
   * other instance's has been sent; each reads it before its next token check (AppTokenVerifier yields to I/O
   * first). The change answers after that, so a client told "revoked" finds the token refused everywhere.
   * Nothing to wait for on embedded PGlite (one process) or while the listener is down (caches are bypassed).
   */
  expectEcho(processId: number | undefined, events: readonly Invalidation[]): Echo {
    if (this.runtime.embedded || !this.listening || processId === undefined || events.length === 0) return NO_ECHO;
    const pending: Array<[string, () => void]> = [];
    const arrivals = [...new Set(events.map(encodeInvalidation))].map(
      (payload) =>
        new Promise<void>((resolve) => {
          const key = `${processId}:${payload}`;
          const waiters = this.echoes.get(key) ?? new Set<() => void>();
          waiters.add(resolve);
          this.echoes.set(key, waiters);
          pending.push([key, resolve]);
        }),
    );
    const forget = () => {
      for (const [key, resolve] of pending) {
        const waiters = this.echoes.get(key);
        waiters?.delete(resolve);
        if (waiters?.size === 0) this.echoes.delete(key);
      }
    };
    return {
      wait: async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, ECHO_TIMEOUT_MS);
        });
        await Promise.race([Promise.all(arrivals), timeout]);
        clearTimeout(timer);
        forget();
      },
      cancel: forget,
    };
  }

  /** Applies changes to this instance's caches; call right after the transaction commits. */
  apply(events: readonly Invalidation[]): void {
    for (const event of events) this.dispatch(event);
  }

  private dispatch(event: Invalidation): void {
    this.epochValue++;
    for (const subscriber of this.subscribers) subscriber(event);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.runtime.url,
      application_name: 'apptoken-server-listener',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client.on('notification', (message) => {
      if (message.channel !== INVALIDATION_CHANNEL) return;
      const payload = message.payload ?? '*';
      if (payload.startsWith(PING)) {
        if (payload === `${PING}${this.instanceId}:${this.pingSequence}`) clearTimeout(this.heartbeatDeadline);
        return;
      }
      this.dispatch(decodeInvalidation(payload));
      const key = `${message.processId}:${payload}`;
      const waiters = this.echoes.get(key);
      if (waiters) {
        this.echoes.delete(key);
        for (const resolve of waiters) resolve();
      }
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    this.client = client;
    // Anything may have changed while no one was listening.
    this.dispatch({ kind: 'all' });
    this.listening = true;
    this.reconnectDelay = RECONNECT_MIN_MS;
    this.heartbeat = setInterval(() => this.ping(client), HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  private ping(client: pg.Client): void {
    const sequence = ++this.pingSequence;
    clearTimeout(this.heartbeatDeadline);
    this.heartbeatDeadline = setTimeout(() => this.lost(client, new Error('heartbeat not answered')), HEARTBEAT_TIMEOUT_MS);
    this.heartbeatDeadline.unref();
    client.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, `${PING}${this.instanceId}:${sequence}`]).catch((error: Error) => this.lost(client, error));
  }

  private lost(client: pg.Client, error: Error): void {
    // 'error' and 'end' both arrive for one failure; handle it once.
    if (this.deadClients.has(client)) return;
    this.deadClients.add(client);
    clearInterval(this.heartbeat);
    clearTimeout(this.heartbeatDeadline);
    const wasListening = this.listening;
    this.listening = false;
    this.lastProblem = error.message;
    this.client = undefined;
    // Nothing more will come back through this connection: no change waits for it.
    for (const waiters of this.echoes.values()) for (const resolve of waiters) resolve();
    this.echoes.clear();
    this.dispatch({ kind: 'all' });
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.stopped) return;
    if (wasListening) this.logger.warn(`lost the invalidation listener (${error.message}); caches are bypassed until it is back`);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), this.reconnectDelay);
    this.reconnectTimer.unref();
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
  }
}
