/** Identity names are unique case-insensitively (and across Unicode width/compatibility forms). */
export function identityNameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}
