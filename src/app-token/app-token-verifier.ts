import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import { sha256 } from '../common/crypto.js';
import { ApiException, ErrorCode } from '../common/error-code.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { TokenUse } from '../webhook/webhook-events.js';
import { RevokedUseReporter } from './revoked-use.reporter.js';
import { SigningKeys } from './signing-keys.js';
import { verifyToken, type RefusalReason, type TokenClaims, type VerifyResult } from './token-codec.js';
import { TokenRecords, type TokenRecord } from './token-records.js';

/** Resolves once the I/O callbacks already due in this turn of the event loop (a NOTIFY among them) have run. */
const afterPendingIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The words a caller may see when a token is refused (nothing about keys or claims). */
export const INVALID_TOKEN = 'Invalid app token';

/** The most ancestors a token may have: deeper chains are refused (and never granted), bounding each check. */
export const MAX_TOKEN_CHAIN = 16;

export type TokenCheck =
  | { ok: true; principal: Principal; claims: TokenClaims; record: TokenRecord }
  | { ok: false; message: string; code: TokenRefusalCode };

export type TokenRefusalCode = ErrorCode.TOKEN_INVALID | ErrorCode.TOKEN_EXPIRED | ErrorCode.TOKEN_REVOKED | ErrorCode.IDENTITY_DISABLED;

const refusal = (code: TokenRefusalCode, message: string): TokenCheck => ({ ok: false, code, message });

/** The 401 for a refused token, with the refusal's code. */
export function tokenRefused(check: { code: TokenRefusalCode; message: string }): ApiException {
  return new ApiException(401, check.code, check.message);
}

/** The refusal for a token the codec turned down: expiry is told apart, anything else is just invalid. */
export function codecRefusal(reason: RefusalReason): { code: TokenRefusalCode; message: string } {
  return reason === 'expired' ? { code: ErrorCode.TOKEN_EXPIRED, message: `${INVALID_TOKEN}: expired` } : { code: ErrorCode.TOKEN_INVALID, message: INVALID_TOKEN };
}

/**
 * Decides whether a presented app token is valid now: first the codec (signature with one of our keys,
 * HS256 only, issuer, audience, nbf/exp), then the record: it must exist, match the token's SHA-256, be
 * neither revoked nor expired, and belong to an enabled identity. The roles in effect are the record's
 * roles that the identity still holds; the role claim is never trusted. A token granted with a token (a
 * child) is never worth more than its parent now: it is refused when an ancestor is no longer valid, and its
 * roles are cut to those in effect up the chain. Database failures are thrown.
 */
@Injectable()
export class AppTokenVerifier {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeys,
    private readonly records: TokenRecords,
    private readonly revokedUses: RevokedUseReporter,
  ) {}

  verifyClaims(raw: string): VerifyResult {
    return verifyToken(raw, { keys: this.keys.all, issuer: this.config.jwt.issuer, audience: this.config.jwt.audience });
  }

  /**
   * `use`: where the token is being used (a request, forward-auth), given so that a revoked or deleted token's
   * use is reported (`apptoken.revoked_used`, off the request path); an introspection gives none.
   */
  async checkRecord(claims: TokenClaims, raw: string, use?: Omit<TokenUse, 'at'>): Promise<TokenCheck> {
    // Lets a change another instance announced before this request arrived be applied first: its NOTIFY may sit
    // unread in the same turn of the event loop as this request, and a request answered from the cache alone
    // (no await on I/O) would otherwise be decided before it (seen in races.e2e-spec once requests got fast).
    await afterPendingIo();
    const record = await this.records.token(claims.hash);
    if (!record || !timingSafeEqual(sha256(raw), record.tokenSha256)) {
      // Signed with our key but without a record: deleted here, if its tombstone says so.
      if (!record && use) this.revokedUses.report(claims, 'missing', use);
      return refusal(ErrorCode.TOKEN_INVALID, INVALID_TOKEN);
    }
    const now = Date.now();
    if (record.revokedAt !== null && record.revokedAt <= now) {
      if (use) this.revokedUses.report(claims, 'revoked', use);
      return refusal(ErrorCode.TOKEN_REVOKED, `${INVALID_TOKEN}: revoked`);
    }
    if (record.expiresAt !== null && record.expiresAt <= now) return refusal(ErrorCode.TOKEN_EXPIRED, `${INVALID_TOKEN}: expired`);
    const identity = await this.records.identity(record.identityId);
    if (!identity || identity.disabled) return refusal(ErrorCode.IDENTITY_DISABLED, `${INVALID_TOKEN}: its identity is disabled or gone`);
    let roleIds = record.roleIds.filter((roleId) => identity.roles.has(roleId));
    if (record.parentHash !== null) {
      const bound = await this.chainRoleIds(record.parentHash, now);
      // The token it was granted with has ended (revoked, expired or deleted): this one ended with it.
      if (bound === null) return refusal(ErrorCode.TOKEN_REVOKED, `${INVALID_TOKEN}: its parent token is no longer valid`);
      roleIds = roleIds.filter((roleId) => bound.has(roleId));
    }
    const roles = roleIds.map((roleId) => identity.roles.get(roleId)!);
    return {
      ok: true,
      claims,
      record,
      principal: { identityId: identity.id, name: identity.name, source: identity.source, roles, via: 'token', tokenId: record.id, identity: identity.facts },
    };
  }

  /**
   * The role ids a child of token `hash` may use now: that token's roles its identity still holds, and so on
   * up the chain (each link bounds the next); null when any ancestor is revoked, expired, gone, of a disabled
   * identity, or the chain is longer than {@link MAX_TOKEN_CHAIN}. Read through the same caches as the token
   * itself, so an ancestor's change takes effect at the child's next request on every instance.
   */
  private async chainRoleIds(hash: string, now: number): Promise<Set<number> | null> {
    let bound: Set<number> | undefined;
    let next: string | null = hash;
    for (let depth = 0; next !== null; depth++) {
      if (depth >= MAX_TOKEN_CHAIN) return null;
      const ancestor: TokenRecord | null = await this.records.token(next);
      if (!ancestor || (ancestor.revokedAt !== null && ancestor.revokedAt <= now) || (ancestor.expiresAt !== null && ancestor.expiresAt <= now)) return null;
      const identity = await this.records.identity(ancestor.identityId);
      if (!identity || identity.disabled) return null;
      const previous = bound;
      bound = new Set(ancestor.roleIds.filter((roleId) => identity.roles.has(roleId) && (previous === undefined || previous.has(roleId))));
      next = ancestor.parentHash;
    }
    return bound ?? new Set();
  }

  async verify(raw: string, use?: Omit<TokenUse, 'at'>): Promise<TokenCheck> {
    const result = this.verifyClaims(raw);
    if (!result.ok) return { ok: false, ...codecRefusal(result.reason) };
    return this.checkRecord(result.claims, raw, use);
  }
}
