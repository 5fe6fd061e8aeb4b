import { createHmac, createSecretKey, randomUUID } from 'node:crypto';
import { encodeToken, payloadOf, type TokenClaims } from '../../src/app-token/token-codec.js';

/** PSU's default Jwt:SigningKey (30 bytes). */
export const PSU_DEFAULT_KEY = 'PleaseUseYourOwnSigningKeyHere';

export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

export function decodeHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token in PSU's format, signed with `key` (PSU's default unless given). */
export function mintPsuToken(claims: Partial<TokenClaims> & { name: string; roles: string[] }, key = PSU_DEFAULT_KEY): string {
  return encodeToken(
    {
      hash: randomUUID(),
      nbf: nowSeconds(),
      exp: nowSeconds() + 30 * 86400,
      iss: 'IronmanSoftware',
      aud: 'PowerShellUniversal',
      ...claims,
    },
    createSecretKey(Buffer.from(key, 'utf8')),
  );
}

/** Signs an arbitrary header and payload with `key`: for tokens our codec would never mint. */
export function signRaw(header: object, payload: object, key: string): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${createHmac('sha256', Buffer.from(key, 'utf8')).update(input).digest('base64url')}`;
}

/** The payload of a token with some claims replaced, re-signed with `key`. */
export function resign(token: string, changes: Record<string, unknown>, key: string): string {
  return signRaw({ alg: 'HS256', typ: 'JWT' }, { ...decodePayload(token), ...changes }, key);
}

export { payloadOf };
