import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Brackets, In, type DataSource, type EntityManager } from 'typeorm';
import { AuditAction, AuditService } from '../audit/audit.service.js';
import { isAdministrator, type Principal } from '../auth/principal.js';
import { sha256 } from '../common/crypto.js';
import { isUniqueViolation } from '../common/database-errors.js';
import { NEVER, type Expiration } from '../common/flexible-date.js';
import { pageWindow } from '../common/pagination.js';
import { joinRoles } from '../common/role-list.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { databaseNow } from '../database/clock.js';
import { InvalidationService, type Invalidation } from '../database/invalidation.service.js';
import { identityNameKey, nameKeyFits } from '../identity/identity-name.js';
import { IdentityEntity } from '../identity/identity.entity.js';
import { sortRoleNames } from '../identity/identity.mapper.js';
import { roleNameKey } from '../role/role-name.js';
import { RoleEntity } from '../role/role.entity.js';
import { AppTokenTombstoneEntity } from './app-token-tombstone.entity.js';
import { AppTokenEntity, type AppTokenOrigin } from './app-token.entity.js';
import type { AppTokenDto, ListTokensQueryDto, MigrateTokenDto } from './dto/app-token.dto.js';
import { SigningKeys } from './signing-keys.js';
import { encodeToken, REFUSAL_MESSAGES, verifyToken } from './token-codec.js';

const DAY_MS = 86_400_000;

export interface GrantRequest {
  /** Whom for; undefined: the caller. */
  identity?: { id?: number; name?: string };
  roles?: string[];
  lifespanDays?: number;
  expiration?: Expiration;
  description?: string;
}

export function toAppTokenDto(token: AppTokenEntity, value: string | null, now = Date.now()): AppTokenDto {
  const roles = sortRoleNames(token.roles.map((role) => role.name));
  const identityRoles = sortRoleNames((token.identity.roles ?? []).map((role) => role.name));
  return {
    id: token.id,
    token: value,
    identity: { id: token.identity.id, name: token.identity.name, source: token.identity.source, role: joinRoles(identityRoles) },
    revoked: token.revokedAt !== null && token.revokedAt.getTime() <= now,
    role: joinRoles(roles),
    roles,
    created: token.createdAt.toISOString(),
    expiration: token.expiresAt?.toISOString() ?? null,
    revokedDate: token.revokedAt?.toISOString() ?? null,
    description: token.description,
    lastUsed: token.lastUsedAt?.toISOString() ?? null,
  };
}

/** Grants, lists, revokes, rotates, deletes and migrates app tokens (contract §3). */
@Injectable()
export class AppTokenService {
  private readonly defaultLifetimeDays: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeys,
    private readonly audit: AuditService,
    private readonly invalidation: InvalidationService,
  ) {
    const max = config.appTokenMaxLifetimeDays;
    this.defaultLifetimeDays = max === undefined ? config.appTokenDefaultLifetimeDays : Math.min(max, config.appTokenDefaultLifetimeDays);
  }

  /** GET /apptoken/grant[/id] and POST /apptoken/grant. */
  async grant(actor: Principal, request: GrantRequest, address: string): Promise<AppTokenDto> {
    const now = Date.now();
    const expiresAt = this.lifetime(request, now);
    const { token, value } = await this.dataSource.transaction(async (manager) => {
      const identity = await this.grantee(actor, request.identity, manager);
      const roles = this.grantableRoles(actor, identity, request.roles);
      const created = await this.insertToken(manager, {
        identity,
        roles,
        createdAt: new Date(now),
        expiresAt,
        description: request.description ?? '',
        origin: 'granted',
        actor,
      });
      await this.audit.record(
        {
          action: AuditAction.TokenGranted,
          actor,
          targetIdentity: identity,
          targetTokenId: created.token.id,
          address,
          detail: { roles: roles.map((r) => r.name), expiration: expiresAt?.toISOString() ?? NEVER },
        },
        manager,
      );
      return created;
    });
    this.invalidation.apply([{ kind: 'token', hash: token.hash }]);
    return toAppTokenDto(token, value);
  }

  /** POST /apptoken: store a token minted by PSU or another instance with the same key. */
  async migrate(actor: Principal, dto: MigrateTokenDto, address: string): Promise<AppTokenDto> {
    const now = Date.now();
    const verified = verifyToken(dto.token, { keys: this.keys.all, issuer: this.config.jwt.issuer, audience: this.config.jwt.audience, ignoreExpiration: true });
    if (!verified.ok) throw new UnprocessableEntityException(`cannot migrate: ${REFUSAL_MESSAGES[verified.reason]}`);
    const { claims } = verified;
    if (claims.exp !== undefined && claims.exp * 1000 <= now) throw new UnprocessableEntityException('cannot migrate: the token has expired');
    if (!nameKeyFits(claims.name)) throw new UnprocessableEntityException('cannot migrate: the name claim is longer than 256 characters once normalised');
    if (identityNameKey(dto.identity.name) !== identityNameKey(claims.name)) {
      throw new UnprocessableEntityException(`cannot migrate: Identity.Name "${dto.identity.name}" is not the token's name claim "${claims.name}"`);
    }
    const claimed = [...new Set(claims.roles.map(roleNameKey))].sort();
    const given = [...new Set(dto.role.map(roleNameKey))].sort();
    if (claimed.join() !== given.join()) {
      throw new UnprocessableEntityException(`cannot migrate: Role "${dto.role.join(', ')}" is not the token's role claim "${claims.roles.join(', ')}"`);
    }
    let expiresAt = claims.exp === undefined ? null : new Date(claims.exp * 1000);
    if (dto.expiration instanceof Date) {
      if (dto.expiration.getTime() <= now) throw new UnprocessableEntityException('cannot migrate: Expiration has passed');
      if (expiresAt === null || dto.expiration < expiresAt) expiresAt = dto.expiration;
    }
    const tooLong = this.lifetimeProblem(expiresAt, now);
    if (tooLong) throw new UnprocessableEntityException(`cannot migrate: ${tooLong}`);

    try {
      const token = await this.dataSource.transaction(async (manager) => {
        if (await manager.existsBy(AppTokenTombstoneEntity, { hash: claims.hash })) {
          throw new ConflictException('this token was deleted here and cannot be migrated again; grant a new one');
        }
        const roles = await manager.find(RoleEntity, { where: { nameKey: In(claimed) } });
        const missing = claims.roles.filter((role) => !roles.some((r) => r.nameKey === roleNameKey(role)));
        if (missing.length > 0) throw new UnprocessableEntityException(`cannot migrate: role "${missing[0]}" does not exist here; create it first`);
        const identity = await this.migrationIdentity(manager, claims.name, roles);
        const lacking = roles.filter((role) => !identity.roles.some((r) => r.id === role.id));
        if (lacking.length > 0) {
          throw new UnprocessableEntityException(`cannot migrate: identity "${identity.name}" does not hold role ${lacking.map((r) => r.name).join(', ')} here`);
        }
        const { token } = await this.insertToken(manager, {
          identity,
          roles,
          createdAt: new Date(claims.nbf > 0 ? claims.nbf * 1000 : now),
          expiresAt,
          description: 'migrated',
          origin: 'migrated',
          actor,
          hash: claims.hash,
          value: dto.token,
        });
        await this.audit.record(
          { action: AuditAction.TokenMigrated, actor, targetIdentity: identity, targetTokenId: token.id, address, detail: { roles: roles.map((r) => r.name) } },
          manager,
        );
        return token;
      });
      this.invalidation.apply([{ kind: 'token', hash: token.hash }]);
      return toAppTokenDto(token, dto.token);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException('this token is already stored here');
      throw error;
    }
  }

  async list(actor: Principal, query: ListTokensQueryDto): Promise<[AppTokenDto[], number]> {
    const { skip, take } = pageWindow(query);
    const builder = this.dataSource
      .getRepository(AppTokenEntity)
      .createQueryBuilder('token')
      .innerJoinAndSelect('token.identity', 'identity')
      .leftJoinAndSelect('identity.roles', 'identityRole')
      .leftJoinAndSelect('token.roles', 'role')
      .orderBy('token.id', 'DESC')
      .skip(skip)
      .take(take);
    if (!isAdministrator(actor)) builder.andWhere('token.identity_id = :self', { self: actor.identityId });
    if (query.identity !== undefined) {
      if (/^\d+$/.test(query.identity)) {
        const identityId = Number(query.identity);
        if (identityId > 2_147_483_647) return [[], 0];
        builder.andWhere('token.identity_id = :identityId', { identityId });
      } else builder.andWhere('identity.name_key = :identityKey', { identityKey: identityNameKey(query.identity) });
    }
    if (query.revoked !== undefined) {
      builder.andWhere(query.revoked ? 'token.revoked_at <= now()' : '(token.revoked_at IS NULL OR token.revoked_at > now())');
    }
    if (query.expired !== undefined) {
      builder.andWhere(query.expired ? 'token.expires_at <= now()' : '(token.expires_at IS NULL OR token.expires_at > now())');
    }
    if (query.search) {
      const pattern = `%${query.search.replace(/[\\%_]/g, '\\$&')}%`;
      builder.andWhere(new Brackets((where) => where.where('token.description ILIKE :pattern', { pattern }).orWhere('identity.name ILIKE :pattern', { pattern })));
    }
    const [tokens, total] = await builder.getManyAndCount();
    return [tokens.map((token) => toAppTokenDto(token, this.storedValue(actor, token))), total];
  }

  async get(actor: Principal, id: number): Promise<AppTokenDto> {
    const token = await this.visibleToken(actor, id);
    return toAppTokenDto(token, this.storedValue(actor, token));
  }

  /** Idempotent: a revoked token stays revoked with its first revocation date. */
  async revoke(actor: Principal, id: number, address: string): Promise<AppTokenDto> {
    const token = await this.changeToken(actor, id, async (manager, token) => {
      const now = await databaseNow(manager);
      if (token.revokedAt !== null && token.revokedAt <= now) return [];
      token.revokedAt = now;
      await manager.update(AppTokenEntity, { id: token.id }, { revokedAt: now });
      await this.audit.record({ action: AuditAction.TokenRevoked, actor, targetIdentity: token.identity, targetTokenId: token.id, address }, manager);
      return [{ kind: 'token', hash: token.hash }];
    });
    return toAppTokenDto(token, null);
  }

  /** A new token with the same identity, roles and lifetime; the old one revoked now or after `graceSeconds`. */
  async rotate(actor: Principal, id: number, graceSeconds: number, address: string): Promise<AppTokenDto> {
    let created: { token: AppTokenEntity; value: string } | undefined;
    await this.changeToken(actor, id, async (manager, old) => {
      const now = (await databaseNow(manager)).getTime();
      if (old.revokedAt !== null && old.revokedAt.getTime() <= now) throw new ConflictException(`token ${old.id} is revoked; grant a new one instead`);
      if (old.expiresAt !== null && old.expiresAt.getTime() <= now) throw new ConflictException(`token ${old.id} has expired; grant a new one instead`);
      if (old.identity.disabled) throw new ConflictException(`identity "${old.identity.name}" is disabled`);
      const roles = old.roles.filter((role) => old.identity.roles.some((held) => held.id === role.id));
      if (roles.length === 0) throw new ConflictException(`identity "${old.identity.name}" no longer holds any of token ${old.id}'s roles`);
      this.assertCallerHolds(actor, roles);
      const expiresAt = old.expiresAt === null ? null : new Date(now + (old.expiresAt.getTime() - old.createdAt.getTime()));
      const tooLong = this.lifetimeProblem(expiresAt, now);
      if (tooLong) throw new BadRequestException(tooLong);
      created = await this.insertToken(manager, {
        identity: old.identity,
        roles,
        createdAt: new Date(now),
        expiresAt,
        description: old.description,
        origin: 'rotated',
        actor,
        rotatedFromId: old.id,
      });
      const revokeAt = new Date(now + graceSeconds * 1000);
      const revokedAt = old.revokedAt !== null && old.revokedAt < revokeAt ? old.revokedAt : revokeAt;
      await manager.update(AppTokenEntity, { id: old.id }, { revokedAt });
      await this.audit.record(
        {
          action: AuditAction.TokenRotated,
          actor,
          targetIdentity: old.identity,
          targetTokenId: old.id,
          address,
          detail: { newTokenId: created.token.id, graceSeconds, oldRevokedAt: revokedAt.toISOString() },
        },
        manager,
      );
      return [
        { kind: 'token', hash: old.hash },
        { kind: 'token', hash: created.token.hash },
      ];
    });
    return toAppTokenDto(created!.token, created!.value);
  }

  async delete(actor: Principal, id: number, address: string): Promise<void> {
    await this.changeToken(actor, id, async (manager, token) => {
      await manager.delete(AppTokenEntity, { id: token.id });
      await manager.insert(AppTokenTombstoneEntity, { hash: token.hash, expiresAt: token.expiresAt });
      await this.audit.record({ action: AuditAction.TokenDeleted, actor, targetIdentity: token.identity, targetTokenId: token.id, address }, manager);
      return [{ kind: 'token', hash: token.hash }];
    });
  }

  /**
   * The stored value of a token (enhanced security off), for a caller who could use it anyway: an
   * Administrator, or one whose roles in this request include all of the token's. Otherwise a token with
   * fewer roles could read its owner's stronger tokens.
   */
  private storedValue(actor: Principal, token: AppTokenEntity): string | null {
    if (token.token === null) return null;
    if (isAdministrator(actor) || token.roles.every((role) => actor.roles.includes(role.name))) return token.token;
    return null;
  }

  /** Purges tokens revoked or expired longer ago than the retention period, leaving tombstones. */
  async purge(): Promise<number> {
    const cutoff = new Date(Date.now() - this.config.appTokenRetentionDays * DAY_MS);
    const [{ purged }] = (await this.dataSource.query(
      `WITH gone AS (DELETE FROM app_token WHERE revoked_at < $1 OR expires_at < $1 RETURNING hash, expires_at),
            kept AS (INSERT INTO app_token_tombstone (hash, expires_at) SELECT hash, expires_at FROM gone ON CONFLICT DO NOTHING)
       SELECT count(*)::int AS purged FROM gone`,
      [cutoff],
    )) as Array<{ purged: number }>;
    // A tombstone outlives its use once the token has expired: migration refuses expired tokens.
    await this.dataSource.query('DELETE FROM app_token_tombstone WHERE expires_at < now()');
    return purged;
  }

  /**
   * Loads a token the caller may act on (404 otherwise: another identity's token is not acknowledged),
   * locks it, applies `change` in a transaction with its audit record and NOTIFY, then tells this
   * instance's caches before returning.
   */
  private async changeToken(
    actor: Principal,
    id: number,
    change: (manager: EntityManager, token: AppTokenEntity) => Promise<Invalidation[]>,
  ): Promise<AppTokenEntity> {
    let events: Invalidation[] = [];
    const token = await this.dataSource.transaction(async (manager) => {
      const locked = await manager
        .getRepository(AppTokenEntity)
        .createQueryBuilder('token')
        .setLock('pessimistic_write', undefined, ['token'])
        .where('token.id = :id', { id })
        .getOne();
      if (!locked || (!isAdministrator(actor) && locked.identityId !== actor.identityId)) throw new NotFoundException(`app token ${id} not found`);
      const token = await this.loadToken(manager, id);
      events = await change(manager, token);
      await this.invalidation.notify(manager, events);
      return token;
    });
    this.invalidation.apply(events);
    return token;
  }

  private async visibleToken(actor: Principal, id: number): Promise<AppTokenEntity> {
    const token = await this.dataSource.getRepository(AppTokenEntity).findOne({
      where: { id },
      relations: { roles: true, identity: { roles: true } },
    });
    if (!token || (!isAdministrator(actor) && token.identityId !== actor.identityId)) throw new NotFoundException(`app token ${id} not found`);
    return token;
  }

  private loadToken(manager: EntityManager, id: number): Promise<AppTokenEntity> {
    return manager.getRepository(AppTokenEntity).findOneOrFail({ where: { id }, relations: { roles: true, identity: { roles: true } } });
  }

  /** The identity a grant is for: the caller, or (Administrators only) another one. */
  private async grantee(actor: Principal, ref: GrantRequest['identity'], manager: EntityManager): Promise<IdentityEntity> {
    const repository = manager.getRepository(IdentityEntity);
    let identity: IdentityEntity | null;
    if (ref?.id !== undefined) identity = await repository.findOne({ where: { id: ref.id }, relations: { roles: true } });
    else if (ref?.name !== undefined) identity = await repository.findOne({ where: { nameKey: identityNameKey(ref.name) }, relations: { roles: true } });
    else identity = await repository.findOne({ where: { id: actor.identityId }, relations: { roles: true } });
    if (identity && identity.id !== actor.identityId && !isAdministrator(actor)) {
      throw new ForbiddenException('Only Administrators grant tokens to other identities');
    }
    if (!identity) throw new NotFoundException(`identity ${ref?.id ?? ref?.name ?? actor.identityId} not found`);
    if (identity.disabled) throw new ConflictException(`identity "${identity.name}" is disabled`);
    return identity;
  }

  /**
   * The roles for a new token: those asked for, or by default all the identity holds (for a caller
   * granting itself: all it holds in this request). Every role must be held by the identity; a caller
   * granting itself can never add a role it does not hold now, and only Administrators grant for others.
   */
  private grantableRoles(actor: Principal, identity: IdentityEntity, requested: string[] | undefined): RoleEntity[] {
    const self = identity.id === actor.identityId;
    const held = self ? identity.roles.filter((role) => actor.roles.includes(role.name)) : identity.roles;
    if (requested === undefined) {
      if (held.length === 0) throw new BadRequestException(`identity "${identity.name}" holds no role; assign one before granting a token`);
      return held;
    }
    if (requested.length === 0) throw new BadRequestException('a token needs at least one role');
    const roles: RoleEntity[] = [];
    for (const name of requested) {
      const role = identity.roles.find((r) => r.nameKey === roleNameKey(name));
      if (!role) {
        throw new ForbiddenException(self ? `You do not hold role "${name.slice(0, 64)}"` : `Identity "${identity.name}" does not hold role "${name.slice(0, 64)}"`);
      }
      if (self && !actor.roles.includes(role.name)) throw new ForbiddenException(`You do not hold role "${role.name}" in this request`);
      if (!roles.includes(role)) roles.push(role);
    }
    return roles;
  }

  private assertCallerHolds(actor: Principal, roles: RoleEntity[]): void {
    if (isAdministrator(actor)) return;
    const missing = roles.find((role) => !actor.roles.includes(role.name));
    if (missing) throw new ForbiddenException(`You do not hold role "${missing.name}" in this request`);
  }

  /** The expiration a grant asks for (or the default), checked against APP_TOKEN_MAX_LIFETIME_DAYS. */
  private lifetime(request: GrantRequest, now: number): Date | null {
    if (request.lifespanDays !== undefined && request.expiration !== undefined) {
      throw new BadRequestException('give lifespanDays or expiration, not both');
    }
    let expiresAt: Date | null;
    if (request.expiration === NEVER) expiresAt = null;
    else if (request.expiration instanceof Date) {
      if (request.expiration.getTime() <= now) throw new BadRequestException('expiration must be in the future');
      expiresAt = request.expiration;
    } else {
      expiresAt = new Date(now + (request.lifespanDays ?? this.defaultLifetimeDays) * DAY_MS);
    }
    // JWT times are whole seconds: store exactly what the token says.
    if (expiresAt !== null) expiresAt = new Date(Math.floor(expiresAt.getTime() / 1000) * 1000);
    const problem = this.lifetimeProblem(expiresAt, now);
    if (problem) throw new BadRequestException(problem);
    return expiresAt;
  }

  private lifetimeProblem(expiresAt: Date | null, now: number): string | undefined {
    const max = this.config.appTokenMaxLifetimeDays;
    if (max === undefined) return undefined;
    if (expiresAt === null) return `tokens must expire: the maximum lifetime is ${max} days (APP_TOKEN_MAX_LIFETIME_DAYS)`;
    // A minute of slack for clock steps between computing and checking.
    if (expiresAt.getTime() - now > max * DAY_MS + 60_000) return `the lifetime exceeds the maximum of ${max} days (APP_TOKEN_MAX_LIFETIME_DAYS)`;
    return undefined;
  }

  /** The identity a migrated token names, created (source "migrated", the token's roles) when missing. */
  private async migrationIdentity(manager: EntityManager, name: string, roles: RoleEntity[]): Promise<IdentityEntity> {
    const nameKey = identityNameKey(name);
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(IdentityEntity)
      .values({ name, nameKey, source: 'migrated', passwordHash: null, disabled: false })
      .orIgnore()
      .returning(['id'])
      .execute();
    const identity = await manager.findOne(IdentityEntity, { where: { nameKey }, relations: { roles: true } });
    // It existed at the insert and a concurrent deletion committed since.
    if (!identity) throw new ConflictException(`identity "${name}" was deleted meanwhile; retry`);
    if (inserted.raw.length > 0) {
      await manager.createQueryBuilder().relation(IdentityEntity, 'roles').of(identity).add(roles);
      identity.roles = roles;
    }
    return identity;
  }

  private async insertToken(
    manager: EntityManager,
    spec: {
      identity: IdentityEntity;
      roles: RoleEntity[];
      createdAt: Date;
      expiresAt: Date | null;
      description: string;
      origin: AppTokenOrigin;
      actor: Principal;
      hash?: string;
      value?: string;
      rotatedFromId?: number;
    },
  ): Promise<{ token: AppTokenEntity; value: string }> {
    const hash = spec.hash ?? randomUUID();
    const value =
      spec.value ??
      encodeToken(
        {
          name: spec.identity.name,
          hash,
          roles: sortRoleNames(spec.roles.map((role) => role.name)),
          nbf: Math.floor(spec.createdAt.getTime() / 1000),
          exp: spec.expiresAt === null ? undefined : Math.floor(spec.expiresAt.getTime() / 1000),
          iss: this.config.jwt.issuer,
          aud: this.config.jwt.audience,
        },
        this.keys.current,
      );
    const token = await manager.save(
      manager.create(AppTokenEntity, {
        hash,
        tokenSha256: sha256(value),
        token: this.config.enhancedAppTokenSecurity ? null : value,
        identityId: spec.identity.id,
        roles: spec.roles,
        createdAt: spec.createdAt,
        expiresAt: spec.expiresAt,
        revokedAt: null,
        description: spec.description,
        lastUsedAt: null,
        lastUsedAddress: null,
        origin: spec.origin,
        createdByIdentityId: spec.actor.identityId,
        createdByName: spec.actor.name,
        rotatedFromId: spec.rotatedFromId ?? null,
      }),
    );
    token.identity = spec.identity;
    // A token presented before it was migrated may be remembered as unknown; callers apply this after commit.
    await this.invalidation.notify(manager, [{ kind: 'token', hash }]);
    return { token, value };
  }
}
