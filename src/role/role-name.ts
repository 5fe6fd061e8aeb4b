import unhomoglyph from 'unhomoglyph';

/**
 * Role-name folding. Two names that fold to the same key are the same role, so a custom role cannot
 * imitate a built-in one by case, width, accents, separators or look-alike letters from any script.
 * Look-alikes come from Unicode's confusables data (UTS #39) through `unhomoglyph`, not a hand-made list.
 */

/** Letters, digits, spaces and `._-`; a letter or digit first; 1 to 64 characters. No commas: roles are comma-joined. */
export const ROLE_NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u;

/**
 * The `name_key` column's length in characters. Folding can lengthen a name up to six times (a Hangul
 * syllable such as 꽦 decomposes into jamo, and some jamo into two), so 64 characters fold to at most 384.
 * A key that still would not fit is refused (400), never truncated.
 */
export const ROLE_NAME_KEY_MAX_LENGTH = 512;

const SEPARATORS = /[\s._-]+/g;
const MARKS = /\p{M}/gu;

/** UTS #39 skeleton: NFD, each character to its prototype, NFD again. */
function skeleton(text: string): string {
  return unhomoglyph(text.normalize('NFD')).normalize('NFD');
}

/** One round: look-alikes, then case, accents and separators (prototypes can be capitals: `0` → `O`). */
function foldOnce(text: string): string {
  return (
    skeleton(text)
      .toLowerCase()
      .replace(MARKS, '')
      .replace(SEPARATORS, '')
      // `l` and `i` are look-alikes in most sans-serif fonts (Administrator vs AdmlnIstrator); UTS #39 keeps them apart.
      .replace(/l/g, 'i')
  );
}

const keys = new Map<string, string>();

/** The canonical form a role name is compared by (memoised: the gateway compares names per request). */
export function roleNameKey(name: string): string {
  let key = keys.get(name);
  if (key !== undefined) return key;
  key = name.normalize('NFKC');
  // Skeleton first (UTS #39 is case-sensitive: Cherokee Ꭺ is an A, its lower case is not an a), then case;
  // lower-casing can expose another look-alike, so a few rounds reach the fixed point.
  for (let round = 0; round < 4; round++) {
    const next = foldOnce(key);
    if (next === key) break;
    key = next;
  }
  // Recomposed (Hangul syllables decompose into two or three letters under NFD), so keys stay short.
  key = key.normalize('NFC');
  if (name.length <= 128) {
    if (keys.size >= 10_000) keys.clear();
    keys.set(name, key);
  }
  return key;
}

/** Why a new role name cannot be stored, or undefined: its folded key must be non-empty and fit its column. */
export function roleNameKeyProblem(name: string): string | undefined {
  // Counted in code points, as PostgreSQL counts varchar characters.
  const length = [...roleNameKey(name)].length;
  if (length === 0) return 'name has no letters or digits once look-alikes are folded (٠ and ۰ fold to a dot)';
  if (length > ROLE_NAME_KEY_MAX_LENGTH) return `name is too long once folded for look-alike comparison (${length} of at most ${ROLE_NAME_KEY_MAX_LENGTH} characters)`;
  return undefined;
}

/** A role name as stored: trimmed and NFKC-normalised. */
export function normalizeRoleName(name: string): string {
  return name.normalize('NFKC').trim();
}
