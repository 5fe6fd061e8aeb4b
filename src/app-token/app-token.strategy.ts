import { HttpException, Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-jwt';
import { bearerToken } from '../auth/bearer-token.js';
import { clientAddress } from '../auth/client-address.js';
import type { Principal } from '../auth/principal.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ErrorCode } from '../common/error-code.js';
import { AppTokenVerifier, codecRefusal, INVALID_TOKEN, tokenRefused } from './app-token-verifier.js';
import { LastUsedTracker } from './last-used.tracker.js';
import type { TokenClaims } from './token-codec.js';

export const APP_TOKEN_STRATEGY = 'app-token';

/** Where the codec's verdict waits for `validate`, on the request passport hands along. */
const VERIFIED = Symbol('verifiedClaims');
type VerifiedRequest = FastifyRequest & { [VERIFIED]?: { claims: TokenClaims; token: string } };

/**
 * The codec's verdict on a token, handed to passport-jwt in place of a key: {@link codecVerifier} then passes
 * the claims on instead of having jsonwebtoken check the same HMAC again.
 */
class CodecVerdict {
  constructor(readonly claims: TokenClaims) {}
}

type JwtVerifier = (token: string, key: unknown, options: unknown, callback: (error: Error | null, payload?: unknown) => void) => void;
const jwtStrategy = Strategy as unknown as { JwtVerifier: JwtVerifier };
const jsonwebtokenVerifier = jwtStrategy.JwtVerifier;

/**
 * passport-jwt's verification step (`JwtStrategy.JwtVerifier`, its hook for a verifier of one's own). A token
 * our codec has verified arrives with a CodecVerdict as its key and is accepted as verified; any other key
 * goes to jsonwebtoken as before. Measured (2026-11-29): jsonwebtoken re-checking a token the codec had just
 * verified (HMAC, header and claims again) cost about 11 us of CPU per Bearer request (the codec itself 7 us); the codec checks all
 * that jsonwebtoken did (HS256 only, signature, issuer, audience, nbf/exp with 60 s skew) and more.
 */
function codecVerifier(token: string, key: unknown, options: unknown, callback: (error: Error | null, payload?: unknown) => void): void {
  if (key instanceof CodecVerdict) callback(null, key.claims);
  else jsonwebtokenVerifier(token, key, options, callback);
}
jwtStrategy.JwtVerifier = codecVerifier;

/**
 * Bearer app tokens through passport-jwt. The token comes only from the Authorization header (never the
 * URL). The codec verifies it once (signature with one of our keys, HS256, issuer, audience, 60 s skew), in
 * passport-jwt's key step, and passport-jwt takes that verdict (see {@link codecVerifier}); then the record decides.
 */
@Injectable()
export class AppTokenStrategy extends PassportStrategy(Strategy, APP_TOKEN_STRATEGY) {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
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
          done(tokenRefused(codecRefusal(result.reason)));
          return;
        }
        request[VERIFIED] = { claims: result.claims, token: rawToken };
        // The verdict, not a key: passport-jwt's verifier (codecVerifier) accepts it without a second HMAC.
        done(null, new CodecVerdict(result.claims) as unknown as Buffer);
      },
    });
  }

  async validate(request: VerifiedRequest): Promise<Principal> {
    const verified = request[VERIFIED];
    if (!verified) throw tokenRefused({ code: ErrorCode.TOKEN_INVALID, message: INVALID_TOKEN });
    const address = clientAddress(request.ip, request.socket.remoteAddress);
    const check = await this.verifier.checkRecord(verified.claims, verified.token, { address, via: 'bearer' });
    if (!check.ok) throw tokenRefused(check);
    this.lastUsed.touch(check.record.id, address);
    return check.principal;
  }
}

/** Keeps an HttpException (401 with its reason, 503 when the database is down) as passport reports it. */
export function passportError(error: unknown, info: unknown): Error {
  if (error instanceof Error) return error;
  if (info instanceof HttpException) return info;
  return tokenRefused({ code: ErrorCode.TOKEN_INVALID, message: INVALID_TOKEN });
}
