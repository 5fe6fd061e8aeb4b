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
const ACK = 'a:';
const BYE = 'bye';
/** The longest a change waits for every live instance to acknowledge its NOTIFY before answering anyway. */
export const ECHO_TIMEOUT_MS = 1000;
/** An instance whose heartbeat has not been heard for this long is no longer waited for. */
const PEER_SILENCE_MS = 2 * HEARTBEAT_INTERVAL_MS + HEARTBEAT_TIMEOUT_MS;

/** A change's NOTIFYs expected back (and acknowledged by every live instance), registered before its transaction commits. */
export interface Echo {
  /** Resolves when every live instance has applied every payload, or after ECHO_TIMEOUT_MS. */
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
  /** Acknowledgements waiting for the end of this event-loop turn, by listener connection. */
  private readonly acks = new Map<pg.Client, string[]>();
  /** Other instances on this database, by instance id: when their heartbeat was last heard. */
  private readonly peers = new Map<string, number>();
  /** Changes waiting to be applied everywhere: by sending backend pid and payload, the instances yet to apply it ('self' included). */
  private readonly echoes = new Set<{ key: Map<string, Set<string>>; pid: number; settle: () => void }>();

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
    // No one need wait for this instance's acknowledgements any more.
    await this.client?.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, `${PING}${this.instanceId}:${BYE}`]).catch(() => undefined);
    await this.client?.end().catch(() => undefined);
  }

  /** Announces changes from inside the transaction that makes them; they reach other instances on commit. */
  async notify(manager: EntityManager, events: readonly Invalidation[]): Promise<void> {
    if (this.runtime.embedded || events.length === 0) return;
    if (events.length === 1) {
      await manager.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, encodeInvalidation(events[0])]);
      return;
    }
    // Many at once (a bulk revoke): one round trip, each payload still its own notification, in order.
    await manager.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS e(payload, n) ORDER BY n', [INVALIDATION_CHANNEL, events.map(encodeInvalidation)]);
  }

  /**
   * Registers, before the transaction that sends them commits, the wait for `events` to be applied on every
   * instance: back through this instance's listener from backend `processId` (the transaction's session), and
   * acknowledged by every other live instance (heard in the last PEER_SILENCE_MS), each of which acknowledges
   * only after applying it to its caches. The change answers after that (or after ECHO_TIMEOUT_MS), so a
   * client told "revoked" finds the token refused on every instance. Nothing to wait for on embedded PGlite
   * (one process) or while the listener is down (caches are bypassed here, and the others flush on reconnect).
   */
  expectEcho(processId: number | undefined, events: readonly Invalidation[]): Echo {
    if (this.runtime.embedded || !this.listening || processId === undefined || events.length === 0) return NO_ECHO;
    const heardSince = Date.now() - PEER_SILENCE_MS;
    const instances = ['self', ...[...this.peers].filter(([, heard]) => heard >= heardSince).map(([id]) => id)];
    const key = new Map([...new Set(events.map(encodeInvalidation))].map((payload) => [payload, new Set(instances)]));
    let settle: () => void = () => undefined;
    const applied = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const entry = { key, pid: processId, settle: () => settle() };
    this.echoes.add(entry);
    const forget = () => {
      this.echoes.delete(entry);
    };
    return {
      wait: async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, ECHO_TIMEOUT_MS);
        });
        await Promise.race([applied, timeout]);
        clearTimeout(timer);
        forget();
      },
      cancel: forget,
    };
  }

  /** Marks `payload` from backend `pid` applied by `instance` (or, with no payload, everything `instance` owed). */
  private settle(instance: string, pid?: number, payload?: string): void {
    for (const entry of this.echoes) {
      if (pid !== undefined && entry.pid !== pid) continue;
      for (const [expected, waiting] of entry.key) {
        if (payload === undefined || expected === payload) waiting.delete(instance);
        if (waiting.size === 0) entry.key.delete(expected);
      }
      if (entry.key.size === 0) {
        this.echoes.delete(entry);
        entry.settle();
      }
    }
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
        const [instance, sequence] = payload.slice(PING.length).split(':');
        if (instance === this.instanceId) {
          if (sequence === String(this.pingSequence)) clearTimeout(this.heartbeatDeadline);
        } else if (sequence === BYE) {
          this.peers.delete(instance);
          this.settle(instance);
        } else {
          this.peers.set(instance, Date.now());
        }
        return;
      }
      if (payload.startsWith(ACK)) {
        // a:<instance>:<pid>:<payload>: that instance has applied <payload> sent by backend <pid>.
        const [instance, pid] = payload.slice(ACK.length).split(':', 2);
        const acknowledged = payload.slice(ACK.length + instance.length + pid.length + 2);
        if (instance !== this.instanceId) this.settle(instance, Number(pid), acknowledged);
        return;
      }
      this.dispatch(decodeInvalidation(payload));
      this.settle('self', message.processId, payload);
      // Applied here: the instance that made the change may answer once every instance has said so.
      this.acknowledge(client, `${ACK}${this.instanceId}:${message.processId}:${payload}`);
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
    // Heard at once by the others, so their changes wait for this instance's acknowledgements from now on.
    this.ping(client);
    this.heartbeat = setInterval(() => this.ping(client), HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  /**
   * Sends an acknowledgement, with those of the same event-loop turn in one statement (still one notification
   * each): a bulk revoke's thousand payloads arrive together, and one round trip apiece kept its answer waiting.
   */
  private acknowledge(client: pg.Client, ack: string): void {
    const batch = this.acks.get(client);
    if (batch) {
      batch.push(ack);
      return;
    }
    const acks = [ack];
    this.acks.set(client, acks);
    setImmediate(() => {
      this.acks.delete(client);
      const sent =
        acks.length === 1
          ? client.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, acks[0]])
          : client.query('SELECT pg_notify($1, ack) FROM unnest($2::text[]) WITH ORDINALITY AS a(ack, n) ORDER BY n', [INVALIDATION_CHANNEL, acks]);
      sent.catch((error: Error) => this.lost(client, error));
    });
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
    for (const entry of this.echoes) entry.settle();
    this.echoes.clear();
    this.peers.clear();
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
