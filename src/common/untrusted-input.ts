/**
 * Checks every string a request brings (body values and property names, query values, path parameters)
 * once, before anything else looks at them: PostgreSQL refuses U+0000 in text (a 500 far away from its
 * cause), other control characters have no business in names or searches, and a lone surrogate is not
 * Unicode at all (the driver would silently store U+FFFD). Tab, line feed and carriage return stay
 * allowed: free text such as a description may have lines. Fields with stricter rules (names) keep them.
 * Bidirectional embedding, override and isolate controls are refused too ("Trojan Source"): shown back in the
 * console, the audit log or a terminal, `invoice\u202Eexe.pdf` reads as another text than it is. The marks
 * (U+200E, U+200F) that right-to-left text legitimately needs stay allowed.
 */

/** Deeper JSON is refused before class-transformer, which recurses into it, can overflow the stack. */
export const MAX_NESTING = 32;

// C0 controls but TAB, LF and CR; DEL; the C1 controls. A high surrogate not followed by a low one, or a low one alone.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI.
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Names that reach Object.prototype in careless code: refused wherever they appear. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** What is wrong with one string, if anything; never quotes the string (it may be a password). */
export function textProblem(text: string): string | undefined {
  const control = CONTROL.exec(text);
  if (control) return `contains a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}); remove it`;
  if (LONE_SURROGATE.test(text)) return 'is not valid Unicode (a lone surrogate); send UTF-8 text';
  const bidi = BIDI_CONTROL.exec(text);
  if (bidi) return `contains a bidirectional control character (U+${bidi[0].charCodeAt(0).toString(16).toUpperCase()}), which makes text display as other text; remove it`;
  return undefined;
}

function describeKey(key: string): string {
  return textProblem(key) === undefined ? key : JSON.stringify(key.slice(0, 40));
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${describeKey(key)}` : describeKey(key);
}

/**
 * The first problem in a parsed request value, as a sentence naming where it is (`identity.name contains
 * a control character (U+0000); remove it`), or undefined. Walks without recursion, so any depth is safe.
 */
export function untrustedInputProblem(value: unknown, what: string, path = ''): string | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      const problem = textProblem(item.value);
      if (problem) return `${item.path || what} ${problem}`;
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= MAX_NESTING) return `${what} is nested more than ${MAX_NESTING} levels deep`;
    if (Array.isArray(item.value)) {
      for (let index = item.value.length - 1; index >= 0; index--) stack.push({ value: item.value[index], path: join(item.path, index), depth: item.depth + 1 });
      continue;
    }
    const entries = Object.entries(item.value as Record<string, unknown>);
    for (let index = entries.length - 1; index >= 0; index--) {
      const [key, inner] = entries[index];
      const keyProblem = textProblem(key);
      if (keyProblem) return `a property name in ${item.path || what} ${keyProblem}`;
      // JSON bodies never get here with "__proto__" (the parser refuses it); queries and form bodies do.
      if (RESERVED_KEYS.has(key)) return `${join(item.path, key)} is not allowed as a property name`;
      stack.push({ value: inner, path: join(item.path, key), depth: item.depth + 1 });
    }
  }
  return undefined;
}

/** True when `value` holds objects or arrays more than {@link MAX_NESTING} levels deep. */
export function nestedTooDeep(value: unknown): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= MAX_NESTING) return true;
    for (const inner of Object.values(item.value as Record<string, unknown>)) {
      if (typeof inner === 'object' && inner !== null) stack.push({ value: inner, depth: item.depth + 1 });
    }
  }
  return false;
}
