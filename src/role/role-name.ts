/**
 * Role-name folding. Two names that fold to the same key are the same role, so a custom role
 * cannot imitate a built-in one by case, width, accents or common homoglyphs.
 */

/** Letters from other scripts (and digits) that render like Latin letters. */
const CONFUSABLES: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ɡ: 'g',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w', ζ: 'z',
  // Latin look-alikes and digits
  ı: 'i', ȷ: 'j', ł: 'l', ø: 'o', đ: 'd', ħ: 'h', ŀ: 'l', '0': 'o', '1': 'l', '|': 'l',
};

/** Letters, digits, spaces and `._-`; a letter or digit first; 1 to 64 characters. No commas: roles are comma-joined. */
export const ROLE_NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u;

/** The canonical form a role name is compared by. */
export function roleNameKey(name: string): string {
  const folded = name
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[\s._-]+/g, '');
  let key = '';
  for (const char of folded) key += CONFUSABLES[char] ?? char;
  // `l` and `i` are look-alikes in most sans-serif fonts (Administrator vs AdmlnIstrator).
  return key.replace(/l/g, 'i');
}

/** A role name as stored: trimmed and NFKC-normalised. */
export function normalizeRoleName(name: string): string {
  return name.normalize('NFKC').trim();
}
