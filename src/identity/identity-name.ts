/** Identity names are unique case-insensitively (and across Unicode width/compatibility forms). */
export function identityNameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

export const NAME_KEY_MAX_LENGTH = 256;

/**
 * The name and its folded form both fit their 256-character columns. NFKC can lengthen a name (one "ﷺ"
 * becomes 18 characters) or shorten it (300 characters of "e" + combining acute become 150 "é").
 */
export function nameKeyFits(name: string): boolean {
  return name.length <= NAME_KEY_MAX_LENGTH && identityNameKey(name).length <= NAME_KEY_MAX_LENGTH;
}

/** Printable, no leading/trailing space, no control or format characters; e-mail addresses and DOMAIN\user fit. */
export const IDENTITY_NAME_PATTERN = /^(?!\s)[^\p{Cc}\p{Cf}]{1,256}(?<!\s)$/u;
export const IDENTITY_NAME_MESSAGE = 'name must be 1 to 256 printable characters (256 also once normalised) without leading or trailing spaces';

/** What POST /api/v1/identity accepts as a name (after trimming), for names that arrive any other way. */
export function isValidIdentityName(name: string): boolean {
  return IDENTITY_NAME_PATTERN.test(name) && nameKeyFits(name);
}
