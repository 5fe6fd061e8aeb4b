import { ConflictException, Inject, Injectable, UnprocessableEntityException } from '@nestjs/common';
import { AuditAction } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { isUniqueViolation } from '../common/database-errors.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { IDENTITY_NAME_MESSAGE, identityNameKey, isValidIdentityName } from '../identity/identity-name.js';
import { IdentityRepository } from '../identity/identity.repository.js';
import { roleNameKey } from '../role/role-name.js';
import { lifetimePolicy, lifetimeProblem, type LifetimePolicy } from './app-token-policy.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import { actorData, identityEventData, tokenEventData } from '../webhook/webhook-events.js';
import { appTokenDtoOf, tokenSubjectOf } from './app-token.mapper.js';
import { AppTokenRepository } from './app-token.repository.js';
import type { AppTokenDto, MigrateTokenDto } from './dto/app-token.dto.js';
import { SigningKeys } from './signing-keys.js';
import { REFUSAL_MESSAGES, verifyToken } from './token-codec.js';
import { TokenIssuer } from './token-issuer.js';

/** A role claim is compared with role names exactly, ignoring letter case only. */
const roleClaimKey = (name: string): string => name.toLowerCase();

/** POST /apptoken: stores a token minted by PSU or another instance with the same key (contract §3). */
@Injectable()
export class AppTokenMigrationService {
  private readonly policy: LifetimePolicy;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeys,
    private readonly work: UnitOfWork,
    private readonly tokens: AppTokenRepository,
    private readonly identities: IdentityRepository,
    private readonly issuer: TokenIssuer,
  ) {
    this.policy = lifetimePolicy(config);
  }

  async migrate(actor: Principal, dto: MigrateTokenDto, address: string): Promise<AppTokenDto> {
    const now = Date.now();
    const verified = verifyToken(dto.token, { keys: this.keys.all, issuer: this.config.jwt.issuer, audience: this.config.jwt.audience, ignoreExpiration: true });
    if (!verified.ok) throw new UnprocessableEntityException(`cannot migrate: ${REFUSAL_MESSAGES[verified.reason]}`);
    const { claims } = verified;
    if (claims.exp !== undefined && claims.exp * 1000 <= now) throw new UnprocessableEntityException('cannot migrate: the token has expired');
    // The claim may create an identity: it must be a name POST /api/v1/identity would accept.
    if (!isValidIdentityName(claims.name)) throw new UnprocessableEntityException(`cannot migrate: the name claim is not a valid identity name (${IDENTITY_NAME_MESSAGE})`);
    if (identityNameKey(dto.identity.name) !== identityNameKey(claims.name)) {
      throw new UnprocessableEntityException(`cannot migrate: Identity.Name "${dto.identity.name}" is not the token's name claim "${claims.name}"`);
    }
    const claimed = [...new Set(claims.roles.map(roleClaimKey))].sort();
    const given = [...new Set(dto.role.map(roleClaimKey))].sort();
    if (claimed.join() !== given.join()) {
      throw new UnprocessableEntityException(`cannot migrate: Role "${dto.role.join(', ')}" is not the token's role claim "${claims.roles.join(', ')}"`);
    }
    const jwtExpiresAt = claims.exp === undefined ? null : new Date(claims.exp * 1000);
    let expiresAt = jwtExpiresAt;
    if (dto.expiration instanceof Date) {
      if (dto.expiration.getTime() <= now) throw new UnprocessableEntityException('cannot migrate: Expiration has passed');
      if (expiresAt === null || dto.expiration < expiresAt) expiresAt = dto.expiration;
    }
    const tooLong = lifetimeProblem(expiresAt, now, this.policy);
    if (tooLong) throw new UnprocessableEntityException(`cannot migrate: ${tooLong}`);

    try {
      const token = await this.work.run(async (tx) => {
        if (await this.tokens.isTombstoned(tx.manager, claims.hash)) {
          throw new ConflictException('this token was deleted here and cannot be migrated again; grant a new one');
        }
        // Only an exact name (or one differing in letter case) counts: a folded look-alike ("Administrat0r",
        // a Cyrillic "А", "ADMIN ISTRATOR") must not become the real role it imitates.
        const candidates = await this.tokens.rolesByKeys(tx.manager, [...new Set(claims.roles.map(roleNameKey))]);
        const roles = candidates.filter((role) => claimed.includes(roleClaimKey(role.name)));
        const missing = claims.roles.filter((role) => !roles.some((r) => roleClaimKey(r.name) === roleClaimKey(role)));
        if (missing.length > 0) {
          throw new UnprocessableEntityException(`cannot migrate: role "${missing[0].slice(0, 64)}" does not exist here (a role claim must name a role exactly, ignoring letter case only); create it first`);
        }
        const { identity, created } = await this.identities.findOrCreate(tx.manager, { name: claims.name, source: 'migrated', roles });
        const lacking = roles.filter((role) => !identity.roles.some((r) => r.id === role.id));
        if (lacking.length > 0) {
          throw new UnprocessableEntityException(`cannot migrate: identity "${identity.name}" does not hold role ${lacking.map((r) => r.name).join(', ')} here`);
        }
        const { token } = await this.issuer.issue(tx, {
          identity,
          roles,
          createdAt: new Date(claims.nbf > 0 ? claims.nbf * 1000 : now),
          expiresAt,
          description: 'migrated',
          origin: 'migrated',
          actor,
          migrated: { value: dto.token, hash: claims.hash, jwtExpiresAt },
        });
        await tx.audit({ action: AuditAction.TokenMigrated, actor, targetIdentity: identity, targetTokenId: token.id, address, detail: { roles: roles.map((r) => r.name) } });
        // A migration stores a token record here: announced as a grant, marked as migrated (PSU minted it).
        const by = actorData(actor);
        if (created) {
          tx.emit({ type: 'identity.created', data: identityEventData({ id: identity.id, name: identity.name, source: identity.source, roles: sortRoleNames(roles.map((r) => r.name)) }, { reason: 'migrated', by }) });
        }
        tx.emit({ type: 'apptoken.granted', data: tokenEventData(tokenSubjectOf(token), { migrated: true, parentTokenId: null, by }) });
        return token;
      });
      return appTokenDtoOf(token, dto.token);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException('this token is already stored here');
      throw error;
    }
  }
}
