import { BadRequestException, ConflictException, ForbiddenException, HttpStatus, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { AuditAction } from '../audit/audit.service.js';
import { isAdministrator, type Principal } from '../auth/principal.js';
import { NEVER, type Expiration } from '../common/flexible-date.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { databaseNow } from '../database/clock.js';
import { UnitOfWork, type Transaction } from '../database/unit-of-work.js';
import { actorData, tokenData, tokenEventData } from '../webhook/webhook-events.js';
import {
  childExpiry,
  grantableRoles,
  lifetimePolicy,
  lifetimeProblem,
  requestedExpiry,
  roleNotHeld,
  roleTheCallerLacks,
  rotatedExpiry,
  tokenEnd,
  type LifetimePolicy,
} from './app-token-policy.js';
import type { AppTokenEntity } from './app-token.entity.js';
import { MAX_TOKEN_CHAIN } from './app-token-verifier.js';
import { appTokenDtoOf, toAppTokenDto, tokenSubjectOf, tokenViewOf, type TokenView } from './app-token.mapper.js';
import { AppTokenRepository } from './app-token.repository.js';
import type { AppTokenDto, LifetimePolicyDto } from './dto/app-token.dto.js';
import { GranteeResolver, type GranteeRef } from './grantee-resolver.js';
import { TokenIssuer } from './token-issuer.js';

export interface GrantRequest {
  /** Whom for; undefined: the caller. */
  identity?: GranteeRef;
  roles?: string[];
  lifespanDays?: number;
  expiration?: Expiration;
  description?: string;
}

/** Grants, revokes, rotates and deletes app tokens (contract §3); lists are AppTokenQueryService's, migration AppTokenMigrationService's. */
@Injectable()
export class AppTokenService {
  private readonly policy: LifetimePolicy;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly work: UnitOfWork,
    private readonly tokens: AppTokenRepository,
    private readonly grantees: GranteeResolver,
    private readonly issuer: TokenIssuer,
  ) {
    this.policy = lifetimePolicy(config);
  }

  /** The lifetimes a grant accepts, for a client to offer (the console's "Never" only when there is no maximum). */
  lifetimePolicy(): LifetimePolicyDto {
    return { defaultLifetimeDays: this.policy.defaultDays, maxLifetimeDays: this.policy.maxDays ?? null };
  }

  /** GET /apptoken/grant[/id] and POST /apptoken/grant. */
  async grant(actor: Principal, request: GrantRequest, address: string): Promise<AppTokenDto> {
    const now = Date.now();
    const requested = requestedExpiry(request, now, this.policy);
    // An Administrator's `system: true` grant provisions a service identity's own credential (GranteeResolver
    // refuses it to anyone else, and for any other identity): not a child of the caller's token, so it neither
    // dies with a setup script's admin token nor is cut to its roles (PSU's integration scripts grant a role they
    // have just created, which no admin token holds). Made with a token, it may still not outlive that token's
    // chain, as a child may not: a leaked one-day admin token must not mint a credential for ever.
    const provisioning = request.identity?.system === true;
    const { token, value } = await this.work.run(async (tx) => {
      const parentTokenId = actor.via === 'token' && !provisioning ? actor.tokenId! : null;
      const boundBy = actor.via === 'token' ? actor.tokenId! : null;
      const expiresAt = boundBy === null ? requested : await this.childExpiresAt(tx, boundBy, requested, request, now, { child: parentTokenId !== null });
      const identity = await this.grantees.resolve(tx, actor, request.identity, request.roles, address);
      const roles = grantableRoles(actor, identity, request.roles, { provisioning });
      const created = await this.issuer.issue(tx, {
        identity,
        roles,
        createdAt: new Date(now),
        expiresAt,
        description: request.description ?? '',
        origin: 'granted',
        actor,
        parentTokenId,
      });
      await tx.audit({
        action: AuditAction.TokenGranted,
        actor,
        targetIdentity: identity,
        targetTokenId: created.token.id,
        address,
        detail: {
          roles: roles.map((r) => r.name),
          expiration: expiresAt?.toISOString() ?? NEVER,
          ...(parentTokenId === null ? {} : { parentTokenId }),
          ...(provisioning ? { system: true } : {}),
        },
      });
      tx.emit({ type: 'apptoken.granted', data: tokenEventData(tokenSubjectOf(created.token), { migrated: false, parentTokenId, by: actorData(actor) }) });
      return created;
    });
    return appTokenDtoOf(token, value);
  }

  /** Idempotent: a revoked token stays revoked with its first revocation date. */
  async revoke(actor: Principal, id: number, address: string): Promise<AppTokenDto> {
    const token = await this.changeToken(actor, id, undefined, async (tx, token) => {
      const now = await databaseNow(tx.manager);
      if (token.revokedAt !== null && token.revokedAt <= now) return;
      token.revokedAt = now;
      await this.tokens.setRevokedAt(tx.manager, token.id, now);
      await tx.audit({ action: AuditAction.TokenRevoked, actor, targetIdentity: token.identity, targetTokenId: token.id, address });
      tx.emit({ type: 'apptoken.revoked', data: tokenEventData(tokenSubjectOf(tokenViewOf(token)), { reason: 'revoked', by: actorData(actor) }) });
      tx.invalidate({ kind: 'token', hash: token.hash });
      await this.revokeDescendants(tx, actor, [token.id], now, address, 'parent_revoked');
    });
    return toAppTokenDto(token, null);
  }

  /** A new token with the same identity, roles and lifetime; the old one revoked now or after `graceSeconds`. */
  async rotate(actor: Principal, id: number, graceSeconds: number, address: string): Promise<AppTokenDto> {
    let created: { token: TokenView; value: string } | undefined;
    // The chains a rotation checks (the old token's ancestors, the caller token's), share-locked root first
    // before the old token is locked: in the other order a concurrent revocation of an ancestor, which locks
    // it and then its subtree, deadlocked with the rotation.
    const lockChains = async (tx: Transaction) => {
      const parentId = await this.tokens.parentTokenId(tx.manager, id);
      if (parentId !== null) await this.tokens.lockChain(tx.manager, parentId, MAX_TOKEN_CHAIN + 1);
      if (actor.via === 'token' && actor.tokenId !== id) await this.tokens.lockChain(tx.manager, actor.tokenId!, MAX_TOKEN_CHAIN + 1);
    };
    await this.changeToken(actor, id, lockChains, async (tx, old) => {
      const now = (await databaseNow(tx.manager)).getTime();
      if (old.revokedAt !== null && old.revokedAt.getTime() <= now) throw new ConflictException(`token ${old.id} is revoked; grant a new one instead`);
      if (old.expiresAt !== null && old.expiresAt.getTime() <= now) throw new ConflictException(`token ${old.id} has expired; grant a new one instead`);
      // In its grace period: it already has its replacement, and rotating it again (with itself, say) would mint a
      // second one, free of its end.
      if (old.revokedAt !== null) throw new ConflictException(`token ${old.id} is already being rotated or revoked: it ends ${old.revokedAt.toISOString()}`);
      if (old.identity.disabled) throw new ConflictException(`identity "${old.identity.name}" is disabled`);
      const roles = old.roles.filter((role) => old.identity.roles.some((held) => held.id === role.id));
      if (roles.length === 0) throw new ConflictException(`identity "${old.identity.name}" no longer holds any of token ${old.id}'s roles`);
      const missing = roleNotHeld(actor, roles.map((role) => role.name));
      if (missing !== undefined) throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, `You do not hold role "${missing}" in this request`);
      let expiresAt = rotatedExpiry(old, now);
      // The replacement keeps the old token's parent, and so may not outlive it either.
      if (old.parentTokenId !== null) expiresAt = await this.childExpiresAt(tx, old.parentTokenId, expiresAt, {}, now);
      const tooLong = lifetimeProblem(expiresAt, now, this.policy);
      if (tooLong) throw new BadRequestException(tooLong);
      // Rotated with another token, it is a grant by that token: within its lifetime, and revoked with it.
      const parentTokenId = actor.via === 'token' && actor.tokenId !== old.id ? actor.tokenId! : old.parentTokenId;
      if (parentTokenId !== old.parentTokenId) expiresAt = await this.rotatedByTokenExpiresAt(tx, parentTokenId!, old.id, expiresAt, now);
      created = await this.issuer.issue(tx, {
        identity: old.identity,
        roles,
        createdAt: new Date(now),
        expiresAt,
        description: old.description,
        origin: 'rotated',
        actor,
        rotatedFromId: old.id,
        parentTokenId,
      });
      const revokedAt = new Date(now + graceSeconds * 1000);
      await this.tokens.setRevokedAt(tx.manager, old.id, revokedAt);
      await tx.audit({
        action: AuditAction.TokenRotated,
        actor,
        targetIdentity: old.identity,
        targetTokenId: old.id,
        address,
        detail: {
          newTokenId: created.token.id,
          graceSeconds,
          oldRevokedAt: revokedAt.toISOString(),
          expiration: expiresAt?.toISOString() ?? NEVER,
          ...(parentTokenId === null ? {} : { parentTokenId }),
        },
      });
      // The old token's revocation is decided now, so announced now, dated when it takes effect (after the grace).
      const oldSubject = { ...tokenSubjectOf(tokenViewOf(old)), revokedAt };
      const by = actorData(actor);
      tx.emit(
        { type: 'apptoken.rotated', data: tokenEventData(oldSubject, { newToken: tokenData(tokenSubjectOf(created.token)), graceSeconds, by }) },
        { type: 'apptoken.revoked', data: tokenEventData(oldSubject, { reason: 'rotated', newTokenId: created.token.id, by }) },
      );
      tx.invalidate({ kind: 'token', hash: old.hash });
      // Tokens granted with the old one end with it.
      await this.revokeDescendants(tx, actor, [old.id], revokedAt, address, 'parent_revoked');
    });
    return appTokenDtoOf(created!.token, created!.value);
  }

  async delete(actor: Principal, id: number, address: string): Promise<void> {
    await this.changeToken(actor, id, undefined, async (tx, token) => {
      await this.revokeDescendants(tx, actor, [token.id], new Date(), address, 'parent_deleted');
      const removed = await this.tokens.removeTrees(tx.manager, { tokenIds: [token.id] });
      await tx.audit({ action: AuditAction.TokenDeleted, actor, targetIdentity: token.identity, targetTokenId: token.id, address });
      const by = actorData(actor);
      // Its descendants go with it (the parent key cascades): each removed record is announced.
      tx.emit(...removed.map((gone) => ({ type: 'apptoken.deleted' as const, data: tokenEventData(gone, { reason: gone.id === token.id ? 'deleted' : 'parent_deleted', by }) })));
      tx.invalidate({ kind: 'token', hash: token.hash }, ...removed.map((gone) => ({ kind: 'token' as const, hash: gone.hash })));
    });
  }

  /**
   * Removes an identity's tokens and everything granted with them (the identity's delete would cascade to them;
   * removed first so each is announced with its identity's name); how many.
   */
  async removeTokensOfIdentity(tx: Transaction, actor: Principal, identityId: number): Promise<number> {
    const removed = await this.tokens.removeTrees(tx.manager, { identityId });
    // The trigger announces each removal too; PostgreSQL folds a transaction's identical notifications into one.
    tx.invalidate(...removed.map((gone) => ({ kind: 'token' as const, hash: gone.hash })));
    const by = actorData(actor);
    tx.emit(
      ...removed.map((gone) => ({
        type: 'apptoken.deleted' as const,
        data: tokenEventData(gone, { reason: gone.identity.id === identityId ? 'identity_deleted' : 'parent_deleted', by }),
      })),
    );
    return removed.length;
  }

  /**
   * Revokes, with an audit record and an `apptoken.revoked` event each (`reason`: why their parent ended), the
   * tokens granted with `parents` (and theirs, down the line), and drops them from every instance's cache when
   * the transaction commits.
   */
  async revokeDescendants(
    tx: Transaction,
    actor: Principal | undefined,
    parents: readonly number[] | { identityId: number },
    at: Date,
    address: string,
    reason: 'parent_revoked' | 'parent_deleted' = 'parent_revoked',
  ): Promise<void> {
    const revoked = await this.tokens.revokeDescendants(tx.manager, Array.isArray(parents) ? { tokenIds: parents } : (parents as { identityId: number }), at);
    const by = actorData(actor);
    for (const child of revoked) {
      await tx.audit({ action: AuditAction.TokenRevoked, actor, targetIdentity: child.identity, targetTokenId: child.id, address, detail: { withParentTokenId: child.parentTokenId, at: at.toISOString() } });
      tx.emit({ type: 'apptoken.revoked', data: tokenEventData(child, { reason, parentTokenId: child.parentTokenId, by }) });
      tx.invalidate({ kind: 'token', hash: child.hash });
    }
  }

  private owns(actor: Principal, token: AppTokenEntity): boolean {
    return isAdministrator(actor) || token.identityId === actor.identityId;
  }

  /**
   * Loads and locks a token the caller may act on (404 otherwise: another identity's token is not
   * acknowledged; 403 when a token caller lacks one of its roles, see {@link roleTheCallerLacks}), and
   * applies `change` to it in one unit of work; `lockFirst` takes the locks that must come before the token's.
   */
  private changeToken(
    actor: Principal,
    id: number,
    lockFirst: ((tx: Transaction) => Promise<void>) | undefined,
    change: (tx: Transaction, token: AppTokenEntity) => Promise<void>,
  ): Promise<AppTokenEntity> {
    return this.work.run(async (tx) => {
      await lockFirst?.(tx);
      const token = await this.tokens.lockForChange(tx.manager, id);
      if (!token || !this.owns(actor, token)) throw new NotFoundException(`app token ${id} not found`);
      const lacking = roleTheCallerLacks(actor, { id: token.id, roles: token.roles.map((role) => role.name) });
      if (lacking !== undefined) {
        throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, `This app token does not hold role "${lacking}" of token ${id}; use one that does, or sign in`);
      }
      await change(tx, token);
      return token;
    });
  }

  /**
   * The expiry of a token granted with (or rotated from a child of) token `parentId`, which it may not outlive.
   * `child: false`: a provisioning grant made with that token, bounded by its chain's end but not linked to it.
   */
  private async childExpiresAt(
    tx: Transaction,
    parentId: number,
    requested: Date | null,
    request: Pick<GrantRequest, 'expiration' | 'lifespanDays'>,
    now: number,
    options: { child: boolean } = { child: true },
  ): Promise<Date | null> {
    // The whole chain, locked: a revocation of any ancestor either commits first (and the grant is refused) or
    // waits for this one and then revokes the new child with the rest of the subtree.
    const chain = await this.tokens.lockChain(tx.manager, parentId, MAX_TOKEN_CHAIN + 1);
    const ends = (chain ?? []).map(tokenEnd).filter((end): end is Date => end !== null);
    const end = chain === null ? new Date(now) : ends.length === 0 ? null : new Date(Math.min(...ends.map((e) => e.getTime())));
    // `now` is when the request began; a revocation that committed while this grant waited for the lock carries
    // a later date, so the database's clock after the lock decides too (else the grant would get a 400 below).
    if ((end !== null && end.getTime() <= now) || chain?.some((link) => link.ended)) throw new ConflictException('the app token this request was made with (or one it was granted with) has been revoked or has expired meanwhile');
    if (chain!.some((link) => link.identityDisabled)) throw new ConflictException('the app token this request was made with (or one it was granted with) belongs to a disabled identity');
    // Verification refuses longer chains: do not hand out a token that could never work.
    // The chain was walked up to MAX_TOKEN_CHAIN + 1 links: all of them found means the parent has MAX_TOKEN_CHAIN ancestors or more.
    if (options.child && chain!.length > MAX_TOKEN_CHAIN) {
      throw new BadRequestException(`a token can be granted with a chain of at most ${MAX_TOKEN_CHAIN} app tokens; grant this one with a session or a token nearer the start`);
    }
    const explicit = request.expiration !== undefined || request.lifespanDays !== undefined;
    const result = childExpiry(requested, explicit, end);
    if ('problem' in result) throw new BadRequestException(result.problem);
    return result.expiresAt;
  }

  /**
   * The expiry of a replacement rotated with token `callerId` (not the old token itself): a grant by that
   * token, so capped to its end, like a grant's default lifetime and like a child's rotation (the lifetime is
   * implied, not asked for; the answer shows it). Refused (403) when the old token is one of the caller's
   * ancestors: the replacement, the caller's child, would be revoked with the old token.
   */
  private async rotatedByTokenExpiresAt(tx: Transaction, callerId: number, oldId: number, expiresAt: Date | null, now: number): Promise<Date | null> {
    if (await this.tokens.isAncestor(tx.manager, oldId, callerId)) {
      throw new ForbiddenException(`token ${oldId} is the one this app token was granted with (or its ancestor): its replacement would be revoked with it; rotate it with a session or another token`);
    }
    return this.childExpiresAt(tx, callerId, expiresAt, {}, now);
  }
}
