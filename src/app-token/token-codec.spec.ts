import { describe, expect, it } from '@jest/globals';
import { createHmac, createSecretKey } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import fc from 'fast-check';
import { CLAIM, encodeToken, payloadOf, verifyToken, type TokenClaims } from './token-codec.js';

/** PSU's default Jwt:SigningKey, 30 bytes: the key the tokens on PSU's app-token page were signed with. */
const PSU_DEFAULT_KEY = createSecretKey(Buffer.from('PleaseUseYourOwnSigningKeyHere', 'utf8'));
const KEY = createSecretKey(Buffer.from('a-strong-signing-key-of-more-than-32-bytes', 'utf8'));
const OLD_KEY = createSecretKey(Buffer.from('an-older-signing-key-still-accepted-for-a-while', 'utf8'));
const ISS = 'IronmanSoftware';
const AUD = 'PowerShellUniversal';

/** The two grants shown on PSU's app-token page (psu-app-tokens.md), verbatim. */
const PSU_ADMIN_GRANT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJodHRwOi8vc2NoZW1hcy54bWxzb2FwLm9yZy93cy8yMDA1LzA1L2lkZW50aXR5L2NsYWltcy9uYW1lIjoiYWRtaW4iLCJodHRwOi8vc2NoZW1hcy54bWxzb2FwLm9yZy93cy8yMDA1LzA1L2lkZW50aXR5L2NsYWltcy9oYXNoIjoiYjJlOGM4MDktMjE0NS00NjhhLWI4NTEtYjU0MjVhZDgzOTQ2Iiwic3ViIjoiUG93ZXJTaGVsbFVuaXZlcnNhbCIsImh0dHA6Ly9zY2hlbWFzLm1pY3Jvc29mdC5jb20vd3MvMjAwOC8wNi9pZGVudGl0eS9jbGFpbXMvcm9sZSI6WyJBZG1pbmlzdHJhdG9yIiwiT3BlcmF0b3IiLCJSZWFkZXIiXSwibmJmIjoxNTkzMTkyMjY1LCJleHAiOjE2MjQ3MjgyNjUsImlzcyI6Iklyb25tYW5Tb2Z0d2FyZSIsImF1ZCI6IlBvd2VyU2hlbGxVbml2ZXJzYWwifQ.hnKyXe8C4kbrmkeeUFr-LUDjVr-xP7fRWwgClcrnxfc';
const PSU_OPERATOR_GRANT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJodHRwOi8vc2NoZW1hcy54bWxzb2FwLm9yZy93cy8yMDA1LzA1L2lkZW50aXR5L2NsYWltcy9uYW1lIjoiYWRhbUBpcm9ubWFuc29mdHdhcmUub25taWNyb3NvZnQuY29tIiwiaHR0cDovL3NjaGVtYXMueG1sc29hcC5vcmcvd3MvMjAwNS8wNS9pZGVudGl0eS9jbGFpbXMvaGFzaCI6IjhhYWM2NWFmLTA2NmItNDYwNy1hMGJjLTNlYTM2ZDY2YjJmMSIsInN1YiI6IlBvd2VyU2hlbGxVbml2ZXJzYWwiLCJodHRwOi8vc2NoZW1hcy5taWNyb3NvZnQuY29tL3dzLzIwMDgvMDYvaWRlbnRpdHkvY2xhaW1zL3JvbGUiOiJPcGVyYXRvciIsIm5iZiI6MTU5MzE5MjM2MCwiZXhwIjoxNjI0NzI4MzYwLCJpc3MiOiJJcm9ubWFuU29mdHdhcmUiLCJhdWQiOiJQb3dlclNoZWxsVW5pdmVyc2FsIn0.9VYiRFOojFyZMH0E5rwdfFcOkoasXFrrWJDNtYk0PIw';

const claims = (overrides: Partial<TokenClaims> = {}): TokenClaims => ({
  name: 'admin',
  hash: 'b2e8c809-2145-468a-b851-b5425ad83946',
  roles: ['Administrator'],
  nbf: 1_800_000_000,
  exp: 1_800_086_400,
  iss: ISS,
  aud: AUD,
  ...overrides,
});

const NOW = 1_800_000_100;
const verify = (token: unknown, extra: { keys?: typeof KEY[]; now?: number; ignoreExpiration?: boolean } = {}) =>
  verifyToken(token, { keys: extra.keys ?? [KEY], issuer: ISS, audience: AUD, now: extra.now ?? NOW, ignoreExpiration: extra.ignoreExpiration });

function forge(header: object, payload: object, key = KEY): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

describe('encodeToken', () => {
  it("reproduces PSU's tokens byte for byte from the same payload and key (an array of roles, and a single role)", () => {
    expect(
      encodeToken(
        { name: 'admin', hash: 'b2e8c809-2145-468a-b851-b5425ad83946', roles: ['Administrator', 'Operator', 'Reader'], nbf: 1593192265, exp: 1624728265, iss: ISS, aud: AUD },
        PSU_DEFAULT_KEY,
      ),
    ).toBe(PSU_ADMIN_GRANT);
    expect(
      encodeToken(
        { name: 'adam@ironmansoftware.onmicrosoft.com', hash: '8aac65af-066b-4607-a0bc-3ea36d66b2f1', roles: ['Operator'], nbf: 1593192360, exp: 1624728360, iss: ISS, aud: AUD },
        PSU_DEFAULT_KEY,
      ),
    ).toBe(PSU_OPERATOR_GRANT);
  });

  it('writes the claims in PSU order, and no exp for a token that never expires', () => {
    const token = encodeToken(claims({ exp: undefined, roles: ['Operator', 'Reader'] }), KEY);
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    expect(Object.keys(payload)).toEqual([CLAIM.name, CLAIM.hash, 'sub', CLAIM.role, 'nbf', 'iss', 'aud']);
    expect(payload[CLAIM.role]).toEqual(['Operator', 'Reader']);
    expect(Object.keys(payloadOf(claims()))).toEqual([CLAIM.name, CLAIM.hash, 'sub', CLAIM.role, 'nbf', 'exp', 'iss', 'aud']);
  });

  it('mints what @nestjs/jwt (jsonwebtoken) mints for the same payload and key, and what it verifies', () => {
    const jwt = new JwtService();
    // @nestjs/jwt passes the secret straight to jsonwebtoken, which takes a KeyObject; its types only say string | Buffer.
    const secret = KEY as unknown as Buffer;
    const token = encodeToken(claims(), KEY);
    expect(jwt.sign(payloadOf(claims()), { secret, algorithm: 'HS256', noTimestamp: true })).toBe(token);
    expect(jwt.verify(token, { secret, algorithms: ['HS256'], issuer: ISS, audience: AUD, clockTimestamp: NOW })).toMatchObject({ sub: 'PowerShellUniversal' });
  });

  it('handles expirations far in the future (year 2200)', () => {
    const exp = Math.floor(Date.UTC(2200, 0, 1) / 1000);
    const result = verify(encodeToken(claims({ exp }), KEY));
    expect(result).toMatchObject({ ok: true, claims: { exp } });
  });
});

describe('verifyToken', () => {
  it('accepts a valid token and returns its claims', () => {
    expect(verify(encodeToken(claims({ roles: ['A', 'B'] }), KEY))).toEqual({ ok: true, keyIndex: 0, claims: claims({ roles: ['A', 'B'] }) });
  });

  it('verifies PSU tokens with the key they were signed with', () => {
    expect(verifyToken(PSU_OPERATOR_GRANT, { keys: [PSU_DEFAULT_KEY], issuer: ISS, audience: AUD, now: 1593192400 })).toMatchObject({
      ok: true,
      claims: { name: 'adam@ironmansoftware.onmicrosoft.com', roles: ['Operator'] },
    });
  });

  it('tries the current key, then each previous key', () => {
    const old = encodeToken(claims(), OLD_KEY);
    expect(verify(old)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(old, { keys: [KEY, OLD_KEY] })).toMatchObject({ ok: true, keyIndex: 1 });
  });

  it('applies nbf and exp with 60 seconds of tolerance', () => {
    const token = encodeToken(claims({ nbf: NOW + 60, exp: NOW + 120 }), KEY);
    expect(verify(token).ok).toBe(true);
    expect(verify(encodeToken(claims({ nbf: NOW + 61 }), KEY))).toEqual({ ok: false, reason: 'not-yet-valid' });
    expect(verify(encodeToken(claims({ exp: NOW - 59 }), KEY)).ok).toBe(true);
    expect(verify(encodeToken(claims({ exp: NOW - 60 }), KEY))).toEqual({ ok: false, reason: 'expired' });
    expect(verify(encodeToken(claims({ exp: NOW - 3600 }), KEY), { ignoreExpiration: true }).ok).toBe(true);
  });

  it('refuses alg none, other algorithms, crit headers, and a tampered payload', () => {
    const payload = payloadOf(claims());
    const [h, p] = forge({ alg: 'none', typ: 'JWT' }, payload).split('.');
    expect(verify(`${h}.${p}.`)).toEqual({ ok: false, reason: 'malformed' });
    expect(verify(forge({ alg: 'none', typ: 'JWT' }, payload))).toEqual({ ok: false, reason: 'unsupported-algorithm' });
    expect(verify(forge({ alg: 'HS512', typ: 'JWT' }, payload))).toEqual({ ok: false, reason: 'unsupported-algorithm' });
    expect(verify(forge({ alg: 'hs256', typ: 'JWT' }, payload))).toEqual({ ok: false, reason: 'unsupported-algorithm' });
    expect(verify(forge({ alg: 'HS256', typ: 'JWT', crit: ['exp'] }, payload))).toEqual({ ok: false, reason: 'unsupported-algorithm' });
    const token = encodeToken(claims(), KEY);
    const [header, , signature] = token.split('.');
    const tampered = Buffer.from(JSON.stringify(payloadOf(claims({ roles: ['Administrator', 'Operator'] })))).toString('base64url');
    expect(verify(`${header}.${tampered}.${signature}`)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('never follows kid, jku, jwk or x5u: the signature must verify with our own keys', () => {
    const attacker = createSecretKey(Buffer.from('attacker-controlled-key-of-32-bytes!!'));
    const token = forge({ alg: 'HS256', typ: 'JWT', kid: '../../dev/null', jku: 'https://evil.example/jwks', jwk: { kty: 'oct', k: 'AAAA' }, x5u: 'https://evil.example/x5' }, payloadOf(claims()), attacker);
    expect(verify(token)).toEqual({ ok: false, reason: 'bad-signature' });
    const ours = forge({ alg: 'HS256', typ: 'JWT', kid: 'anything' }, payloadOf(claims()));
    expect(verify(ours).ok).toBe(true);
  });

  it('requires the issuer and audience', () => {
    expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, { ...payloadOf(claims()), iss: 'Someone' }))).toEqual({ ok: false, reason: 'wrong-issuer' });
    const { iss: _iss, ...noIssuer } = payloadOf(claims());
    expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, noIssuer))).toEqual({ ok: false, reason: 'wrong-issuer' });
    expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, { ...payloadOf(claims()), aud: 'Grafana' }))).toEqual({ ok: false, reason: 'wrong-audience' });
    const { aud: _aud, ...noAudience } = payloadOf(claims());
    expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, noAudience))).toEqual({ ok: false, reason: 'wrong-audience' });
  });

  it('refuses tokens over 8 KiB before decoding, and anything not in compact form', () => {
    const big = forge({ alg: 'HS256', typ: 'JWT' }, { ...payloadOf(claims()), padding: 'x'.repeat(9000) });
    expect(verify(big)).toEqual({ ok: false, reason: 'too-large' });
    for (const value of ['', 'a.b', 'a.b.c.d', `${encodeToken(claims(), KEY)}=`, 'eyJ.eyJ.' + 'A'.repeat(43), undefined, 42, {}, null]) {
      expect(verify(value).ok).toBe(false);
    }
  });

  it('refuses validly signed tokens without the app-token claims', () => {
    const { [CLAIM.hash]: _hash, ...noHash } = payloadOf(claims());
    expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, noHash))).toEqual({ ok: false, reason: 'bad-claims' });
    expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, { ...payloadOf(claims()), [CLAIM.hash]: 'not-a-uuid' }))).toEqual({ ok: false, reason: 'bad-claims' });
    expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, { ...payloadOf(claims()), [CLAIM.role]: [1, 2] }))).toEqual({ ok: false, reason: 'bad-claims' });
    expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, { ...payloadOf(claims()), exp: '2030-01-01' }))).toEqual({ ok: false, reason: 'bad-claims' });
    // Control characters and lone surrogates in the name or a role, as in any request input.
    for (const changes of [{ [CLAIM.name]: 'ad\u0000min' }, { [CLAIM.name]: 'x\uD800' }, { [CLAIM.role]: ['Reader', 'Op\u0007'] }, { [CLAIM.role]: '\u0000' }]) {
      expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, { ...payloadOf(claims()), ...changes }))).toEqual({ ok: false, reason: 'bad-claims' });
    }
    // Past the year 9999 (or before the year 1) is no date a database or a Date holds.
    for (const time of [{ exp: 253402300800 }, { exp: 1e15 }, { exp: 1e300 }, { nbf: -62135596801 }]) {
      expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, { ...payloadOf(claims()), ...time }))).toEqual({ ok: false, reason: 'bad-claims' });
    }
    expect(verify(forge({ alg: 'HS256', typ: 'JWT' }, ['not', 'an', 'object']))).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('verifyToken, property-based', () => {
  it('answers any string with a refusal, never an exception', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10_000 }), (value) => {
        const result = verify(value);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('answers any three base64url parts with a refusal, never an exception', () => {
    const part = fc.stringMatching(/^[A-Za-z0-9_-]{0,200}$/);
    fc.assert(
      fc.property(part, part, fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), (a, b, c) => {
        expect(verify(`${a}.${b}.${c}`).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('answers any JSON header and payload signed with another key with a refusal', () => {
    const other = createSecretKey(Buffer.from('some-other-key-that-is-long-enough-to-use'));
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (header, payload) => {
        const input = `${Buffer.from(JSON.stringify(header) ?? 'null').toString('base64url')}.${Buffer.from(JSON.stringify(payload) ?? 'null').toString('base64url')}`;
        const token = `${input}.${createHmac('sha256', other).update(input).digest('base64url')}`;
        expect(verify(token).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips any claims it mints', () => {
    const name = fc.string({ minLength: 1, maxLength: 100 });
    const roles = fc.array(fc.string({ minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(name, fc.uuid(), roles, fc.option(fc.integer({ min: NOW, max: 7_258_118_400 }), { nil: undefined }), (n, hash, r, exp) => {
        const minted = claims({ name: n, hash, roles: r, exp, nbf: NOW - 10 });
        expect(verify(encodeToken(minted, KEY))).toEqual({ ok: true, keyIndex: 0, claims: { ...minted, hash: hash.toLowerCase() } });
      }),
      { numRuns: 300 },
    );
  });
});
