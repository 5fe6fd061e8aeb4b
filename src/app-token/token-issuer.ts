import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import { sha256 } from '../common/crypto.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { Transaction } from '../database/unit-of-work.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import type { AppTokenOrigin } from './app-token.entity.js';
import type { TokenView } from './app-token.mapper.js';
import { AppTokenRepository } from './app-token.repository.js';
import { TokenMinter } from './token-minter.js';

export interface TokenSpec {
  identity: { id: number; name: string; source: string; roles?: ReadonlyArray<{ name: string }> };
  roles: ReadonlyArray<{ id: number; name: string }>;
  createdAt: Date;
  expiresAt: Date | null;
  description: string;
  origin: AppTokenOrigin;
  actor: Principal;
  rotatedFromId?: number;
  parentTokenId?: number | null;
  /** A migrated token: its value, its hash claim and its own `exp` (when the stored expiry was shortened). */
  migrated?: { value: string; hash: string; jwtExpiresAt: Date | null };
}

/** Stores a token record (minting the JWT unless it is migrated) and declares it to the caches. */
@Injectable()
export class TokenIssuer {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly minter: TokenMinter,
    private readonly tokens: AppTokenRepository,
  ) {}

  /** The new token's view (as the answer shows it) and its value. */
  async issue(tx: Transaction, spec: TokenSpec): Promise<{ token: TokenView; value: string }> {
    const hash = spec.migrated?.hash ?? randomUUID();
    const value =
      spec.migrated?.value ??
      this.minter.mint({
        name: spec.identity.name,
        hash,
        roles: sortRoleNames(spec.roles.map((role) => role.name)),
        nbf: Math.floor(spec.createdAt.getTime() / 1000),
        exp: spec.expiresAt === null ? undefined : Math.floor(spec.expiresAt.getTime() / 1000),
        iss: this.config.jwt.issuer,
        aud: this.config.jwt.audience,
      });
    const stored = this.config.enhancedAppTokenSecurity ? null : value;
    const id = await this.tokens.insert(tx.manager, {
      hash,
      tokenSha256: sha256(value),
      token: stored,
      identityId: spec.identity.id,
      roleIds: spec.roles.map((role) => role.id),
      createdAt: spec.createdAt,
      expiresAt: spec.expiresAt,
      jwtExpiresAt: spec.migrated ? spec.migrated.jwtExpiresAt : spec.expiresAt,
      description: spec.description,
      origin: spec.origin,
      createdByIdentityId: spec.actor.identityId,
      createdByName: spec.actor.name,
      rotatedFromId: spec.rotatedFromId ?? null,
      parentTokenId: spec.parentTokenId ?? null,
    });
    const token: TokenView = {
      id,
      token: stored,
      identity: { id: spec.identity.id, name: spec.identity.name, source: spec.identity.source, roles: (spec.identity.roles ?? []).map((role) => role.name) },
      roles: spec.roles.map((role) => role.name),
      createdAt: spec.createdAt,
      expiresAt: spec.expiresAt,
      revokedAt: null,
      description: spec.description,
      lastUsedAt: null,
      lastUsedAddress: null,
    };
    // A token presented before it was migrated may be remembered as unknown. A minted one has a hash no one
    // has seen (a random UUID signed only now), so nothing to announce: a NOTIFY serialises the whole commit
    // (PostgreSQL holds its notify lock through the WAL flush), which capped grants at one commit at a time.
    if (spec.migrated) tx.invalidate({ kind: 'token', hash });
    return { token, value };
  }
}
