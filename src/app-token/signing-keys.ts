import { createSecretKey, type KeyObject } from 'node:crypto';

/**
 * The HMAC keys, as KeyObjects made once: the raw UTF-8 bytes of JWT_SIGNING_KEY (as PSU uses its
 * Jwt:SigningKey), then each of JWT_PREVIOUS_SIGNING_KEYS. A KeyObject also spares jsonwebtoken its
 * ~1 ms attempt to parse a string secret as a PEM key.
 */
export class SigningKeys {
  readonly current: KeyObject;
  /** Current first, then previous keys, in the order configured. */
  readonly all: readonly KeyObject[];

  constructor(signingKey: string, previousKeys: readonly string[]) {
    this.current = createSecretKey(Buffer.from(signingKey, 'utf8'));
    this.all = [this.current, ...previousKeys.map((key) => createSecretKey(Buffer.from(key, 'utf8')))];
  }
}
