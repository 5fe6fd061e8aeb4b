import { hash, randomBytes } from 'node:crypto';

/**
 * One-shot (crypto.hash): no Hash stream object per call. Every Bearer request hashes its token once; measured
 * (2026-11-29, --cpu-prof on identity/my) createHash().update().digest() there cost about 3 % of the main
 * thread's busy time, more than the token's HMAC.
 */
export function sha256(value: string | Buffer): Buffer {
  return hash('sha256', value, 'buffer');
}

/** A URL-safe random secret of `bytes` bytes of entropy. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
