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
