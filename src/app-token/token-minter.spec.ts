import { describe, expect, it } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import fc from 'fast-check';
import { SigningKeys } from './signing-keys.js';
import { encodeToken, verifyToken, type TokenClaims } from './token-codec.js';
import { TokenMinter } from './token-minter.js';

const keys = new SigningKeys('minter-test-signing-key-0123456789abcdef', []);
const minter = new TokenMinter(new JwtService({}), keys);
const base: TokenClaims = {
  name: 'admin',
  hash: '0f8fad5b-d9cb-469f-a165-70867728950e',
  roles: ['Administrator', 'Operator', 'Reader'],
  nbf: 1_795_900_000,
  exp: 1_827_436_000,
  iss: 'IronmanSoftware',
  aud: 'PowerShellUniversal',
};

describe('TokenMinter (JwtService)', () => {
  it("mints exactly the codec's bytes: several roles, one role (a string claim), no exp", () => {
    for (const claims of [base, { ...base, roles: ['Reader'] }, { ...base, exp: undefined }]) {
      expect(minter.mint(claims)).toBe(encodeToken(claims, keys.current));
    }
  });

  it('writes no iat and PSU header, and what it mints verifies with the strict codec', () => {
    const token = minter.mint(base);
    expect(Buffer.from(token.split('.')[0], 'base64url').toString()).toBe('{"alg":"HS256","typ":"JWT"}');
    expect(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())).not.toHaveProperty('iat');
    expect(verifyToken(token, { keys: keys.all, issuer: base.iss, audience: base.aud, now: base.nbf })).toMatchObject({ ok: true, claims: base });
  });

  it("matches the codec byte for byte for any names, roles and times", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 2_000_000_000 }),
        fc.option(fc.integer({ min: 0, max: 4_000_000_000 }), { nil: undefined }),
        (name, roles, nbf, exp) => {
          const claims = { ...base, name, roles, nbf, exp };
          expect(minter.mint(claims)).toBe(encodeToken(claims, keys.current));
        },
      ),
      { numRuns: 200 },
    );
  });
});
