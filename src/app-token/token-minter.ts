import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { SigningKeys } from './signing-keys.js';
import { payloadOf, type TokenClaims } from './token-codec.js';

/**
 * Mints app tokens through @nestjs/jwt: HS256 with the current key as a KeyObject, PSU's header
 * (`{"alg":"HS256","typ":"JWT"}`) and claim order, and no `iat` (PSU writes none). The bytes equal the
 * codec's `encodeToken` (a unit test holds them to it); verification stays with the codec's strict parser.
 */
@Injectable()
export class TokenMinter {
  constructor(
    private readonly jwt: JwtService,
    private readonly keys: SigningKeys,
  ) {}

  mint(claims: TokenClaims): string {
    return this.jwt.sign(payloadOf(claims), {
      // jsonwebtoken takes a KeyObject (the types say string | Buffer).
      secret: this.keys.current as unknown as Buffer,
      algorithm: 'HS256',
      noTimestamp: true,
      header: { alg: 'HS256', typ: 'JWT' },
    });
  }
}
