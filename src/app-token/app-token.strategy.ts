import { HttpException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-jwt';
import { bearerToken } from '../auth/bearer-token.js';
import { clientAddress } from '../auth/client-address.js';
import type { Principal } from '../auth/principal.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AppTokenVerifier, INVALID_TOKEN, TokenRefusedException } from './app-token-verifier.js';
import { LastUsedTracker } from './last-used.tracker.js';
import { SigningKeys } from './signing-keys.js';
import type { TokenClaims } from './token-codec.js';

export const APP_TOKEN_STRATEGY = 'app-token';

/** Where the codec's verdict waits for `validate`, on the request passport hands along. */
const VERIFIED = Symbol('verifiedClaims');
type VerifiedRequest = FastifyRequest & { [VERIFIED]?: { claims: TokenClaims; token: string } };

/**
 * Bearer app tokens through passport-jwt. The token comes only from the Authorization header (never the
 * URL). The verifier's codec checks it first and hands passport-jwt the key that signed it, as a
 * KeyObject, for jsonwebtoken's own check (HS256, issuer, audience, 60 s skew); then the record decides.
 */
@Injectable()
export class AppTokenStrategy extends PassportStrategy(Strategy, APP_TOKEN_STRATEGY) {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    keys: SigningKeys,
    private readonly verifier: AppTokenVerifier,
    private readonly lastUsed: LastUsedTracker,
  ) {
    super({
      jwtFromRequest: (request: FastifyRequest) => bearerToken(request.headers.authorization) ?? null,
      passReqToCallback: true,
      algorithms: ['HS256'],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      jsonWebTokenOptions: { clockTolerance: 60 },
      secretOrKeyProvider: (request: VerifiedRequest, rawToken: string, done: (error: unknown, key?: string | Buffer) => void) => {
        const result = verifier.verifyClaims(rawToken);
        if (!result.ok) {
          done(result.reason === 'expired' ? new TokenRefusedException('expired', `${INVALID_TOKEN}: expired`) : new TokenRefusedException('invalid', INVALID_TOKEN));
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
    if (!verified) throw new UnauthorizedException(INVALID_TOKEN);
    const check = await this.verifier.checkRecord(verified.claims, verified.token);
    if (!check.ok) throw new TokenRefusedException(check.reason, check.message);
    this.lastUsed.touch(check.record.id, clientAddress(request.ip, request.socket.remoteAddress));
    return check.principal;
  }
}

/** Keeps an HttpException (401 with its reason, 503 when the database is down) as passport reports it. */
export function passportError(error: unknown, info: unknown): Error {
  if (error instanceof Error) return error;
  if (info instanceof HttpException) return info;
  return new UnauthorizedException(INVALID_TOKEN);
}
