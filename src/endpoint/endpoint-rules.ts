import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { InvalidationService } from '../database/invalidation.service.js';
import { RouteMatcher, type EndpointRule } from './route-matcher.js';

/** While NOTIFY cannot be trusted, rules are re-read at most this often (contract §4: within a second). */
const DEGRADED_MAX_AGE_MS = 1000;
/** A backstop only, as for token records: NOTIFY is what keeps the rules current. */
const MAX_AGE_MS = 5 * 60_000;

/**
 * The compiled endpoint rules of this instance. Reloaded when any instance changes a rule (NOTIFY), so a
 * change reaches the gateway's next request with no reload of the gateway.
 */
@Injectable()
export class EndpointRules implements OnApplicationBootstrap {
  private matcher: RouteMatcher | undefined;
  private loadedAt = 0;
  private stale = true;
  /** Counts rule changes announced; a load that saw it move may have read a half-old state. */
  private generation = 0;
  private loading: Promise<RouteMatcher> | undefined;
  private loadingGeneration = -1;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly invalidation: InvalidationService,
  ) {
    invalidation.subscribe((event) => {
      if (event.kind === 'endpoints' || event.kind === 'all') {
        this.generation++;
        this.stale = true;
      }
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.current();
  }

  /** The rules in force now. */
  current(): RouteMatcher | Promise<RouteMatcher> {
    const age = Date.now() - this.loadedAt;
    const fresh = !this.stale && age < (this.invalidation.cacheable ? MAX_AGE_MS : DEGRADED_MAX_AGE_MS);
    if (fresh && this.matcher) return this.matcher;
    // Join a load in flight only if no change was announced since it started.
    if (this.loading && this.loadingGeneration === this.generation) return this.loading;
    this.loadingGeneration = this.generation;
    const loading = this.load().finally(() => {
      if (this.loading === loading) this.loading = undefined;
    });
    this.loading = loading;
    return loading;
  }

  private async load(): Promise<RouteMatcher> {
    const generation = this.generation;
    const rows = (await this.dataSource.query(
      `SELECT e.id, e.url, e.methods, e.authentication,
              coalesce(array_agg(r.name) FILTER (WHERE r.id IS NOT NULL), '{}') AS roles
         FROM endpoint_rule e
         LEFT JOIN endpoint_rule_role er ON er.endpoint_rule_id = e.id
         LEFT JOIN role r ON r.id = er.role_id
        GROUP BY e.id`,
    )) as EndpointRule[];
    const matcher = new RouteMatcher(rows);
    this.matcher = matcher;
    // A change announced while reading may be missing from what was read: then read again next time.
    this.stale = this.generation !== generation;
    this.loadedAt = Date.now();
    return matcher;
  }
}
