/** Identity names are unique case-insensitively (and across Unicode width/compatibility forms). */
export function identityNameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

export const NAME_KEY_MAX_LENGTH = 256;

/** NFKC can lengthen a name (one "ﷺ" becomes 18 characters); the folded form must still fit its column. */
export function nameKeyFits(name: string): boolean {
  return identityNameKey(name).length <= NAME_KEY_MAX_LENGTH;
}
