import { createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks: a symmetric secret is `whsec_` + base64 of 24 to 64 random bytes. */
export const SECRET_PREFIX = 'whsec_';
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;
/** Generated secrets: 32 bytes (256 bits, the HMAC-SHA256 block's natural key size). */
const GENERATED_SECRET_BYTES = 32;

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(GENERATED_SECRET_BYTES).toString('base64');
}

/** The key bytes of a `whsec_` secret; throws an Error saying what is wrong with it (never echoing it). */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error(`secret must start with ${SECRET_PREFIX} (Standard Webhooks' form: ${SECRET_PREFIX} + base64)`);
  const encoded = secret.slice(SECRET_PREFIX.length);
  // Strict base64 (padding optional): Buffer.from would silently skip anything else.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.replace(/=+$/, '').length % 4 === 1) throw new Error(`secret after ${SECRET_PREFIX} must be base64`);
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new Error(`secret must encode ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes, it encodes ${key.length}`);
  }
  return key;
}

/** One `v1,` signature: base64 HMAC-SHA256 of `id.timestamp.body` keyed with the decoded secret. */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The `webhook-signature` header: one signature per secret, space-separated (a rotated-out secret signs too, for a while). */
export function signatureHeader(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets.map((secret) => signature(secret, id, timestamp, body)).join(' ');
}
