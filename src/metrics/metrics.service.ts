import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { PasswordService } from '../auth/password.service.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { InvalidationService } from '../database/invalidation.service.js';
import { AUTH_OUTCOMES, AUTH_VIAS, authOutcome, type AuthOutcome, type AuthVia } from './auth-outcome.js';
import { RequestTally } from './request-tally.js';

/** The route label of a request no route matched (the raw path would give every probe its own series). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Seconds; finer than prom-client's default at the low end, where a cached token check answers (about 1 ms). */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type AuthCounters = Record<AuthVia, Record<AuthOutcome, { inc(): void }>>;

/**
 * The service's Prometheus metrics, in a registry of this application's own (tests run several applications
 * in one process; prom-client's global registry would mix them). Counters are bumped where things happen;
 * gauges of state held elsewhere (listener, pool, argon2 queue) are read when scraped. With METRICS_ENABLED=false
 * nothing is recorded and every call here returns at once.
 */
@Injectable()
export class MetricsService {
  readonly enabled: boolean;
  readonly registry = new Registry();
  private readonly tally = new RequestTally(DURATION_BUCKETS);
  private readonly auth: AuthCounters;
  private readonly cacheHits: Counter;
  private readonly cacheMisses: Counter;
  private readonly webhookAttempts: Counter<'outcome'>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    invalidation: InvalidationService,
    @InjectDataSource() dataSource: DataSource,
    passwords: PasswordService,
  ) {
    this.enabled = config.metricsEnabled;
    const registers = [this.registry];
    const tally = this.tally;
    new Counter({
      name: 'apptoken_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
      collect() {
        this.reset();
        for (const { method, route, statuses } of tally.tallies()) for (const [status, n] of statuses) this.inc({ method, route, status }, n);
      },
    });
    new Histogram({
      name: 'apptoken_http_request_duration_seconds',
      help: 'Time from receiving a request to its response, by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: DURATION_BUCKETS,
      registers,
      collect() {
        // prom-client has no public way to set a histogram's buckets: its series map, in the shape its
        // observe() keeps (per-bound counts, not cumulative), is filled from the tally (checked by the e2e spec).
        const series: Record<string, unknown> = {};
        for (const { method, route, buckets, sum, count } of tally.tallies()) {
          series[`${method} ${route}`] = { labels: { method, route }, bucketValues: Object.fromEntries(DURATION_BUCKETS.map((bound, i) => [bound, buckets[i]])), sum, count };
        }
        (this as unknown as { hashMap: Record<string, unknown> }).hashMap = series;
      },
    });
    const decisions = new Counter({
      name: 'apptoken_auth_decisions_total',
      help: 'Authentication decisions: by session cookie or app token on the API, or forward-auth for a gateway; by outcome',
      labelNames: ['via', 'outcome'],
      registers,
    });
    // Every series exists from the start (a rate() over a series that appears late misses its first count),
    // and the hot path increments a prepared child instead of building a label object.
    this.auth = Object.fromEntries(
      AUTH_VIAS.map((via) => [via, Object.fromEntries(AUTH_OUTCOMES.map((outcome) => [outcome, decisions.labels({ via, outcome })]))]),
    ) as AuthCounters;
    for (const via of AUTH_VIAS) for (const outcome of AUTH_OUTCOMES) decisions.inc({ via, outcome }, 0);
    this.cacheHits = new Counter({ name: 'apptoken_token_cache_hits_total', help: 'App-token record lookups answered from the cache', registers });
    this.cacheMisses = new Counter({
      name: 'apptoken_token_cache_misses_total',
      help: 'App-token record lookups that went to the database (not cached, or caching off while the invalidation listener is down)',
      registers,
    });
    this.webhookAttempts = new Counter({
      name: 'apptoken_webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome: delivered (2xx), retry (failed, tried again later), failed (failed, given up)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['delivered', 'retry', 'failed']) this.webhookAttempts.inc({ outcome }, 0);
    new Gauge({
      name: 'apptoken_invalidation_listener_up',
      help: '1 while changes made on any instance reach this one (PostgreSQL LISTEN connected; always 1 on embedded PGlite), so token caching is on; 0 while it is down',
      registers,
      collect() {
        this.set(invalidation.cacheable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'apptoken_db_pool_connections',
      help: 'Connections of the database pool: total open, idle, and requests waiting for one',
      labelNames: ['state'],
      registers,
      collect() {
        const pool = (dataSource.driver as unknown as { master?: pg.Pool }).master;
        this.set({ state: 'total' }, pool?.totalCount ?? 0);
        this.set({ state: 'idle' }, pool?.idleCount ?? 0);
        this.set({ state: 'waiting' }, pool?.waitingCount ?? 0);
      },
    });
    new Gauge({
      name: 'apptoken_password_hash_queue',
      help: 'argon2 password hashes running and waiting for a turn (sign-ins, password changes)',
      labelNames: ['state'],
      registers,
      collect() {
        const { running, waiting } = passwords.queue;
        this.set({ state: 'running' }, running);
        this.set({ state: 'waiting' }, waiting);
      },
    });
    // Without a prefix: process_cpu_seconds_total, nodejs_eventloop_lag_seconds... are the names the Node.js
    // dashboards and alert rules everyone shares expect; the scrape's job label says which service they are.
    if (this.enabled) collectDefaultMetrics({ register: this.registry });
  }

  /** Records every response with its route pattern and duration; call once, before the server is ready. */
  instrument(fastify: FastifyInstance): void {
    if (!this.enabled) return;
    const tally = this.tally;
    fastify.addHook('onResponse', (request, reply, done) => {
      // fastify's own clock, started when the request arrived: nothing to allocate or hook in onRequest.
      tally.record(request.method, request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE), reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }

  /** Counts one authentication decision, as it settles: ok, or the outcome its refusal stands for. */
  async countAuth<T>(via: AuthVia, decision: Promise<T>): Promise<T> {
    if (!this.enabled) return decision;
    try {
      const result = await decision;
      this.auth[via].ok.inc();
      return result;
    } catch (error) {
      this.auth[via][authOutcome(error)].inc();
      throw error;
    }
  }

  /** One lookup of an app-token record: from the cache or not. */
  tokenCacheLookup(hit: boolean): void {
    if (!this.enabled) return;
    if (hit) this.cacheHits.inc();
    else this.cacheMisses.inc();
  }

  /** One webhook delivery attempt and what became of its delivery. */
  webhookAttempt(outcome: 'delivered' | 'retry' | 'failed'): void {
    if (!this.enabled) return;
    this.webhookAttempts.inc({ outcome });
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
