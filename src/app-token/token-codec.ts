import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { textProblem } from '../common/untrusted-input.js';

/** PSU's claim names (the .NET ClaimTypes URIs). */
export const CLAIM = {
  name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  hash: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/hash',
  role: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
} as const;

export const TOKEN_SUBJECT = 'PowerShellUniversal';
export const MAX_TOKEN_BYTES = 8 * 1024;
export const CLOCK_TOLERANCE_SECONDS = 60;

/** The JOSE header PSU writes, byte for byte. */
const PSU_HEADER: Readonly<Record<string, unknown>> = Object.freeze({ alg: 'HS256', typ: 'JWT' });
const HEADER_SEGMENT = Buffer.from(JSON.stringify(PSU_HEADER)).toString('base64url');
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TokenClaims {
  name: string;
  hash: string;
  roles: string[];
  /** Seconds since the epoch. */
  nbf: number;
  /** Seconds since the epoch; undefined: the token never expires. */
  exp?: number;
  iss: string;
  aud: string;
}

/**
 * The payload in PSU's claim order: name, hash, sub, role, nbf, exp, iss, aud. One role is a string,
 * several an array; a token that never expires has no `exp`.
 */
export function payloadOf(claims: TokenClaims): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    [CLAIM.name]: claims.name,
    [CLAIM.hash]: claims.hash,
    sub: TOKEN_SUBJECT,
    [CLAIM.role]: claims.roles.length === 1 ? claims.roles[0] : claims.roles,
    nbf: claims.nbf,
  };
  if (claims.exp !== undefined) payload.exp = claims.exp;
  payload.iss = claims.iss;
  payload.aud = claims.aud;
  return payload;
}

function sign(signingInput: string, key: KeyObject): Buffer {
  return createHmac('sha256', key).update(signingInput).digest();
}

/** Mints an HS256 token exactly as PSU does, header and claim order included. */
export function encodeToken(claims: TokenClaims, key: KeyObject): string {
  const signingInput = `${HEADER_SEGMENT}.${Buffer.from(JSON.stringify(payloadOf(claims))).toString('base64url')}`;
  return `${signingInput}.${sign(signingInput, key).toString('base64url')}`;
}

export type RefusalReason =
  | 'malformed'
  | 'too-large'
  | 'unsupported-algorithm'
  | 'bad-signature'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'not-yet-valid'
  | 'expired'
  | 'bad-claims';

export type VerifyResult = { ok: true; claims: TokenClaims; keyIndex: number } | { ok: false; reason: RefusalReason };

export interface VerifyOptions {
  /** The current key first, then previous keys. */
  keys: readonly KeyObject[];
  issuer: string;
  audience: string;
  /** Seconds since the epoch; defaults to now. */
  now?: number;
  /** Skip the `exp` check (migration reports expiry itself). */
  ignoreExpiration?: boolean;
}

function parseSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds from 0001-01-01 to 9999-12-31T23:59:59Z: later (or earlier) claims are malformed, not a date to store. */
const EARLIEST_SECONDS = -62135596800;
const LATEST_SECONDS = 253402300799;

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= EARLIEST_SECONDS && value <= LATEST_SECONDS;
}

const refuse = (reason: RefusalReason): VerifyResult => ({ ok: false, reason });

/**
 * Verifies a presented token. Never throws: anything that is not a valid token is a refusal with a reason.
 * Only `alg` HS256 is accepted; `kid`, `jku`, `jwk` and `x5u` are never followed (the keys are ours);
 * the size and shape are checked before anything is decoded.
 */
export function verifyToken(token: unknown, options: VerifyOptions): VerifyResult {
  if (typeof token !== 'string') return refuse('malformed');
  if (token.length > MAX_TOKEN_BYTES) return refuse('too-large');
  if (!COMPACT_JWS.test(token)) return refuse('malformed');
  const [headerSegment, payloadSegment, signatureSegment] = token.split('.');
  // The header PSU and we write, byte for byte, needs no decoding (every token we see has it).
  const header = headerSegment === HEADER_SEGMENT ? PSU_HEADER : parseSegment(headerSegment);
  if (!header) return refuse('malformed');
  if (header.alg !== 'HS256' || (header.typ !== undefined && header.typ !== 'JWT') || header.crit !== undefined) {
    return refuse('unsupported-algorithm');
  }
  const signature = Buffer.from(signatureSegment, 'base64url');
  if (signature.length !== 32) return refuse('malformed');
  const signingInput = `${headerSegment}.${payloadSegment}`;
  const keyIndex = options.keys.findIndex((key) => timingSafeEqual(sign(signingInput, key), signature));
  if (keyIndex === -1) return refuse('bad-signature');

  const payload = parseSegment(payloadSegment);
  if (!payload) return refuse('malformed');
  const { iss, aud, nbf, exp } = payload;
  if (iss !== options.issuer) return refuse('wrong-issuer');
  if (!(aud === options.audience || (Array.isArray(aud) && aud.includes(options.audience)))) return refuse('wrong-audience');
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if ((nbf !== undefined && !isTime(nbf)) || (exp !== undefined && !isTime(exp))) return refuse('bad-claims');
  if (isTime(nbf) && nbf > now + CLOCK_TOLERANCE_SECONDS) return refuse('not-yet-valid');
  if (isTime(exp) && !options.ignoreExpiration && exp <= now - CLOCK_TOLERANCE_SECONDS) return refuse('expired');

  const name = payload[CLAIM.name];
  const hash = payload[CLAIM.hash];
  const role = payload[CLAIM.role];
  const roles = typeof role === 'string' ? [role] : Array.isArray(role) && role.every((r) => typeof r === 'string') ? (role as string[]) : undefined;
  if (typeof name !== 'string' || name === '' || typeof hash !== 'string' || !UUID.test(hash) || roles === undefined) return refuse('bad-claims');
  // The same rule as for request input: a NUL would fail in PostgreSQL, a lone surrogate is not text.
  if (textProblem(name) !== undefined || roles.some((r) => textProblem(r) !== undefined)) return refuse('bad-claims');
  return {
    ok: true,
    keyIndex,
    claims: { name, hash: hash.toLowerCase(), roles, nbf: isTime(nbf) ? nbf : 0, exp: exp as number | undefined, iss: iss as string, aud: options.audience },
  };
}

/** Human wording of a refusal, for migration errors and logs (never the token itself). */
export const REFUSAL_MESSAGES: Record<RefusalReason, string> = {
  malformed: 'the token is not a compact JWS (three base64url parts)',
  'too-large': `the token is larger than ${MAX_TOKEN_BYTES} bytes`,
  'unsupported-algorithm': 'the token is not signed with HS256',
  'bad-signature': "the token's signature does not verify with this instance's signing keys",
  'wrong-issuer': "the token's issuer is not this instance's JWT_ISSUER",
  'wrong-audience': "the token's audience is not this instance's JWT_AUDIENCE",
  'not-yet-valid': 'the token is not valid yet (nbf is in the future)',
  expired: 'the token has expired',
  'bad-claims': 'the token lacks the name, hash (a uuid) or role claims of an app token',
};
