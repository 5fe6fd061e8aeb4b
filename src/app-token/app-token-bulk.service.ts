import { BadRequestException, HttpStatus, Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditAction } from '../audit/audit.service.js';
import { isAdministrator, type Principal } from '../auth/principal.js';
import { isTransactionConflict } from '../common/database-errors.js';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { databaseNow } from '../database/clock.js';
import { UnitOfWork, type Transaction } from '../database/unit-of-work.js';
import { identityNameKey } from '../identity/identity-name.js';
import { roleNameKey } from '../role/role-name.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import { actorData, tokenEventData, type WebhookEventType } from '../webhook/webhook-events.js';
import { roleTheCallerLacks } from './app-token-policy.js';
import { AppTokenBulkRepository, type BulkSelection, type BulkToken } from './app-token-bulk.repository.js';
import { AppTokenRepository } from './app-token.repository.js';
import { MAX_BULK_TOKENS, type BulkTokensDto, type BulkTokensResultDto } from './dto/app-token-bulk.dto.js';

type BulkKind = 'revoke' | 'delete';

/** Attempts of a bulk change that lost a deadlock or serialization race (PostgreSQL rolled it back whole). */
const ATTEMPTS = 3;

/** The filter as the audit event and webhook events record it: only what was given. */
type RecordedFilter = Partial<Omit<BulkTokensDto, 'dryRun'>>;

/**
 * Revokes or deletes many app tokens at once (issue 11: token sprawl, e.g. a thousand one-year tokens left by a
 * schedule): one transaction, one audit event with the count and the filter, every token dropped from every
 * instance's cache as a single revoke does, the tokens granted with them ended too, and a webhook event per token.
 *
 * Who may touch what follows the single routes: an Administrator any token; anyone else only their own (another
 * identity named in `identity` is a 403; others' `ids` simply do not match, as a single revoke answers 404). A
 * caller authenticated with an app token leaves alone the tokens holding a role it lacks (see roleTheCallerLacks):
 * they are skipped and listed in `skippedIds`, not refused, so "revoke my unused tokens" done with a Reader token
 * still revokes what it may, and says what it left.
 */
@Injectable()
export class AppTokenBulkService {
  private readonly logger = new Logger(AppTokenBulkService.name);

  constructor(
    private readonly work: UnitOfWork,
    private readonly bulk: AppTokenBulkRepository,
    private readonly tokens: AppTokenRepository,
  ) {}

  async revoke(actor: Principal, request: BulkTokensDto, address: string): Promise<BulkTokensResultDto> {
    if (request.revokedOnly) throw new BadRequestException('revokedOnly selects tokens that are already revoked: use it with bulk-delete');
    return this.run('revoke', actor, request, address);
  }

  async delete(actor: Principal, request: BulkTokensDto, address: string): Promise<BulkTokensResultDto> {
    return this.run('delete', actor, request, address);
  }

  private async run(kind: BulkKind, actor: Principal, request: BulkTokensDto, address: string): Promise<BulkTokensResultDto> {
    const filter = recordedFilter(request);
    if (Object.keys(filter).length === 0) {
      throw new BadRequestException('give at least one filter: ids, identity, role, expiredOnly, revokedOnly or unusedForDays (dryRun alone selects nothing)');
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.work.run((tx) => (request.dryRun ? this.dryRun(kind, actor, request, tx.manager) : this.change(kind, actor, request, filter, tx, address)));
      } catch (error) {
        if (!isTransactionConflict(error)) throw error;
        // Rolled back whole (nothing was written, audited or announced): run it again on what is there now.
        if (attempt < ATTEMPTS) continue;
        this.logger.warn(`bulk ${kind} lost ${ATTEMPTS} races with concurrent token changes`);
        throw new ApiException(HttpStatus.CONFLICT, ErrorCode.CONFLICT, 'These tokens kept changing under concurrent requests; nothing was changed; retry');
      }
    }
  }

  /** Counts and lists what the change would touch; writes nothing. */
  private async dryRun(kind: BulkKind, actor: Principal, request: BulkTokensDto, manager: EntityManager): Promise<BulkTokensResultDto> {
    const { selection, at } = await this.selection(kind, actor, request, manager);
    await this.refuseOversized(manager, selection, at);
    const { acted, skipped } = split(actor, await this.bulk.matching(manager, selection, at));
    const descendants = await this.bulk.descendants(manager, ids(acted), kind === 'revoke' ? at : undefined);
    return result(acted, descendants, skipped, true);
  }

  private async change(kind: BulkKind, actor: Principal, request: BulkTokensDto, filter: RecordedFilter, tx: Transaction, address: string): Promise<BulkTokensResultDto> {
    const { selection, target } = await this.selection(kind, actor, request, tx.manager);
    await this.refuseOversized(tx.manager, selection, await databaseNow(tx.manager));
    const locked = await this.bulk.lockWithDescendants(tx.manager, selection, await databaseNow(tx.manager));
    // Judged again once the rows are locked, by the clock after the wait: a concurrent revoke or rotation that
    // committed meanwhile is seen, and a revocation date keeps its first value.
    const at = await databaseNow(tx.manager);
    const { acted, skipped } = split(actor, await this.bulk.matching(tx.manager, selection, at, locked));
    const actedIds = ids(acted);
    let descendants: BulkToken[];
    if (kind === 'revoke') {
      await this.bulk.revoke(tx.manager, actedIds, at);
      descendants = await this.bulk.descendants(tx.manager, actedIds, at);
      await this.bulk.revoke(tx.manager, ids(descendants), at);
      for (const token of [...acted, ...descendants]) token.revokedAt = at;
    } else {
      // Removed with their parents by the foreign key's cascade; each row tombstoned by the table's trigger.
      descendants = await this.bulk.descendants(tx.manager, actedIds);
      await this.bulk.remove(tx.manager, actedIds);
    }
    const answer = result(acted, descendants, skipped, false);
    // Nothing changed, nothing to record (a dry run, or a filter that matched nothing the caller may touch).
    if (acted.length > 0) {
      await tx.audit({
        action: kind === 'revoke' ? AuditAction.TokensBulkRevoked : AuditAction.TokensBulkDeleted,
        actor,
        targetIdentity: target,
        address,
        detail: { filter, count: answer.count, ids: answer.ids, descendantIds: answer.descendantIds, ...(skipped.length > 0 ? { skippedIds: answer.skippedIds } : {}) },
      });
    }
    const type: WebhookEventType = kind === 'revoke' ? 'apptoken.revoked' : 'apptoken.deleted';
    // Each event names the filter, but only how many ids it gave (up to 10,000 of them, in every one of up to 10,000 events).
    const { ids: given, ...rest } = filter;
    const eventFilter = given === undefined ? rest : { ...rest, idCount: given.length };
    // The same reasons as a single revoke or delete, so a receiver handles both alike; `bulk` and `filter` tell them apart.
    const [own, inherited] = kind === 'revoke' ? ['revoked', 'parent_revoked'] : ['deleted', 'parent_deleted'];
    const by = actorData(actor);
    for (const token of acted) tx.emit({ type, data: tokenEventData(eventSubject(token), { reason: own, bulk: true, filter: eventFilter, by }) });
    for (const token of descendants) tx.emit({ type, data: tokenEventData(eventSubject(token), { reason: inherited, bulk: true, parentTokenId: token.parentTokenId, by }) });
    tx.invalidate(...[...acted, ...descendants].map((token) => ({ kind: 'token' as const, hash: token.hash })));
    return answer;
  }

  /** The request's filter as a selection for this caller, and the identity it names (checked: 403 for another's, 404 for none). */
  private async selection(kind: BulkKind, actor: Principal, request: BulkTokensDto, manager: EntityManager): Promise<{ selection: BulkSelection; at: Date; target?: { id: number; name: string } }> {
    const selection: BulkSelection = {
      ids: request.ids,
      expiredOnly: request.expiredOnly || undefined,
      revokedOnly: request.revokedOnly || undefined,
      unusedForDays: request.unusedForDays,
      notRevoked: kind === 'revoke' || undefined,
    };
    if (!isAdministrator(actor)) selection.ownerId = actor.identityId;
    let target: { id: number; name: string } | undefined;
    if (request.identity !== undefined) {
      const id = /^\d{1,10}$/.test(request.identity) ? Number(request.identity) : undefined;
      const identity =
        id === undefined ? await this.tokens.findGrantee(manager, { nameKey: identityNameKey(request.identity) }) : id <= 2_147_483_647 ? await this.tokens.findGrantee(manager, { id }) : null;
      // Anyone but an Administrator may name only themselves, and learns nothing of who else exists.
      if (!isAdministrator(actor) && identity?.id !== actor.identityId) {
        throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, "Only Administrators act on other identities' tokens; leave identity out, or name yourself");
      }
      if (!identity) throw new NotFoundException(`identity ${request.identity.slice(0, 64)} not found`);
      selection.identityId = identity.id;
      target = { id: identity.id, name: identity.name };
    }
    if (request.role !== undefined) {
      const [role] = await this.tokens.rolesByKeys(manager, [roleNameKey(request.role)]);
      if (!role) throw new NotFoundException(`role "${request.role}" not found`);
      selection.roleId = role.id;
    }
    return { selection, at: await databaseNow(manager), target };
  }

  /** 400 when the filter matches more than a request may touch, before anything is locked. */
  private async refuseOversized(manager: EntityManager, selection: BulkSelection, at: Date): Promise<void> {
    if ((await this.bulk.matchingIds(manager, selection, at, MAX_BULK_TOKENS + 1)).length <= MAX_BULK_TOKENS) return;
    const matched = await this.bulk.countMatching(manager, selection, at);
    throw new BadRequestException(`the filter matches ${matched} tokens; one request takes at most ${MAX_BULK_TOKENS}: narrow it (identity, role, ids) and repeat`);
  }
}

/** What the request asked for, as recorded: the filters given, nothing else. */
function recordedFilter(request: BulkTokensDto): RecordedFilter {
  const filter: RecordedFilter = {};
  if (request.ids !== undefined) filter.ids = request.ids;
  if (request.identity !== undefined) filter.identity = request.identity;
  if (request.role !== undefined) filter.role = request.role;
  if (request.expiredOnly) filter.expiredOnly = true;
  if (request.revokedOnly) filter.revokedOnly = true;
  if (request.unusedForDays !== undefined) filter.unusedForDays = request.unusedForDays;
  return filter;
}

/** The matched tokens the caller may act on, and those it may not (an app token lacking one of their roles). */
function split(actor: Principal, matched: BulkToken[]): { acted: BulkToken[]; skipped: BulkToken[] } {
  const acted: BulkToken[] = [];
  const skipped: BulkToken[] = [];
  for (const token of matched) (roleTheCallerLacks(actor, token) === undefined ? acted : skipped).push(token);
  return { acted, skipped };
}

function ids(tokens: readonly BulkToken[]): number[] {
  return tokens.map((token) => token.id);
}

function result(acted: BulkToken[], descendants: BulkToken[], skipped: BulkToken[], dryRun: boolean): BulkTokensResultDto {
  return { count: acted.length, ids: ids(acted), descendantIds: ids(descendants), skippedIds: ids(skipped), dryRun };
}

function eventSubject(token: BulkToken) {
  return { ...token, roles: sortRoleNames(token.roles) };
}
