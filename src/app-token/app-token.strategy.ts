import { HttpException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { Principal } from '../auth/principal.js';
import { sha256 } from '../common/crypto.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LastUsedTracker } from './last-used.tracker.js';
import { SigningKeys } from './signing-keys.js';
import { verifyToken, type TokenClaims } from './token-codec.js';
import { TokenRecords } from './token-records.js';

export const APP_TOKEN_STRATEGY = 'app-token';

/** Where the codec's verdict waits for `validate`, on the request passport hands along. */
const VERIFIED = Symbol('verifiedClaims');
type VerifiedRequest = FastifyRequest & { [VERIFIED]?: { claims: TokenClaims; token: string } };

/** Why a token is refused, in the words a caller may see (nothing about keys or claims). */
const REFUSED = 'Invalid app token';

/**
 * Bearer app tokens through passport-jwt. The token comes only from the Authorization header (never the
 * URL). Our codec checks it first (size, shape, HS256 only, which of our keys signed it, issuer, audience,
 * nbf/exp with 60 s tolerance) and hands passport-jwt that key as a KeyObject for its own check. Then the
 * record decides: it must exist, match the token's SHA-256, be neither revoked nor expired, and belong to
 * an enabled identity. The roles are the record's roles the identity still holds; the claim is not trusted.
 */
@Injectable()
export class AppTokenStrategy extends PassportStrategy(Strategy, APP_TOKEN_STRATEGY) {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    keys: SigningKeys,
    private readonly records: TokenRecords,
    private readonly lastUsed: LastUsedTracker,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      passReqToCallback: true,
      algorithms: ['HS256'],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      jsonWebTokenOptions: { clockTolerance: 60 },
      secretOrKeyProvider: (request: VerifiedRequest, rawToken: string, done: (error: unknown, key?: string | Buffer) => void) => {
        const result = verifyToken(rawToken, { keys: keys.all, issuer: config.jwt.issuer, audience: config.jwt.audience });
        if (!result.ok) {
          done(new UnauthorizedException(result.reason === 'expired' ? `${REFUSED}: expired` : REFUSED));
          return;
        }
        request[VERIFIED] = { claims: result.claims, token: rawToken };
        // jsonwebtoken takes a KeyObject (its types say string | Buffer).
        done(null, keys.all[result.keyIndex] as unknown as Buffer);
      },
    });
  }

  async validate(request: VerifiedRequest): Promise<Principal> {
    const verified = request[VERIFIED];
    if (!verified) throw new UnauthorizedException(REFUSED);
    const record = await this.records.token(verified.claims.hash);
    if (!record || !timingSafeEqual(sha256(verified.token), record.tokenSha256)) throw new UnauthorizedException(REFUSED);
    const now = Date.now();
    if (record.revokedAt !== null && record.revokedAt <= now) throw new UnauthorizedException(`${REFUSED}: revoked`);
    if (record.expiresAt !== null && record.expiresAt <= now) throw new UnauthorizedException(`${REFUSED}: expired`);
    const identity = await this.records.identity(record.identityId);
    if (!identity || identity.disabled) throw new UnauthorizedException(`${REFUSED}: its identity is disabled or gone`);
    const roles: string[] = [];
    for (const roleId of record.roleIds) {
      const name = identity.roles.get(roleId);
      if (name !== undefined) roles.push(name);
    }
    this.lastUsed.touch(record.id, request.ip);
    return { identityId: identity.id, name: identity.name, source: identity.source, roles, via: 'token', tokenId: record.id };
  }
}

/** Keeps an HttpException (401 with its reason, 503 when the database is down) as passport reports it. */
export function passportError(error: unknown, info: unknown): Error {
  if (error instanceof Error) return error;
  if (info instanceof HttpException) return info;
  return new UnauthorizedException(REFUSED);
}
