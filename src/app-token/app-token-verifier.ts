import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import { sha256 } from '../common/crypto.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { SigningKeys } from './signing-keys.js';
import { verifyToken, type TokenClaims, type VerifyResult } from './token-codec.js';
import { TokenRecords, type TokenRecord } from './token-records.js';

/** The words a caller may see when a token is refused (nothing about keys or claims). */
export const INVALID_TOKEN = 'Invalid app token';

export type TokenCheck =
  | { ok: true; principal: Principal; claims: TokenClaims; record: TokenRecord }
  | { ok: false; message: string };

/**
 * Decides whether a presented app token is valid now: first the codec (signature with one of our keys,
 * HS256 only, issuer, audience, nbf/exp), then the record: it must exist, match the token's SHA-256, be
 * neither revoked nor expired, and belong to an enabled identity. The roles in effect are the record's
 * roles that the identity still holds; the role claim is never trusted. Database failures are thrown.
 */
@Injectable()
export class AppTokenVerifier {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeys,
    private readonly records: TokenRecords,
  ) {}

  verifyClaims(raw: string): VerifyResult {
    return verifyToken(raw, { keys: this.keys.all, issuer: this.config.jwt.issuer, audience: this.config.jwt.audience });
  }

  async checkRecord(claims: TokenClaims, raw: string): Promise<TokenCheck> {
    const record = await this.records.token(claims.hash);
    if (!record || !timingSafeEqual(sha256(raw), record.tokenSha256)) return { ok: false, message: INVALID_TOKEN };
    const now = Date.now();
    if (record.revokedAt !== null && record.revokedAt <= now) return { ok: false, message: `${INVALID_TOKEN}: revoked` };
    if (record.expiresAt !== null && record.expiresAt <= now) return { ok: false, message: `${INVALID_TOKEN}: expired` };
    const identity = await this.records.identity(record.identityId);
    if (!identity || identity.disabled) return { ok: false, message: `${INVALID_TOKEN}: its identity is disabled or gone` };
    const roles: string[] = [];
    for (const roleId of record.roleIds) {
      const name = identity.roles.get(roleId);
      if (name !== undefined) roles.push(name);
    }
    return {
      ok: true,
      claims,
      record,
      principal: { identityId: identity.id, name: identity.name, source: identity.source, roles, via: 'token', tokenId: record.id },
    };
  }

  async verify(raw: string): Promise<TokenCheck> {
    const result = this.verifyClaims(raw);
    if (!result.ok) return { ok: false, message: result.reason === 'expired' ? `${INVALID_TOKEN}: expired` : INVALID_TOKEN };
    return this.checkRecord(result.claims, raw);
  }
}
