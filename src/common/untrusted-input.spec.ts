import { describe, expect, it } from '@jest/globals';
import { MAX_NESTING, nestedTooDeep, textProblem, untrustedInputProblem } from './untrusted-input.js';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? [value] : { a: value };
  return value;
}

describe('textProblem', () => {
  it.each(['\u0000', 'a\u0001', '\u001B[31m', 'x\u007F', '\u0085next line', '\u009B'])('refuses the control character in %j, naming its code point', (text) => {
    expect(textProblem(text)).toMatch(/control character \(U\+00[0-9A-F]{2}\)/);
  });

  it.each(['\uD800', 'a\uDFFFb', 'x\uDBFF'])('refuses the lone surrogate in %j', (text) => {
    expect(textProblem(text)).toMatch(/lone surrogate/);
  });

  it.each(['invoice\u202Eexe.pdf', '\u202A', 'a\u202Bb\u202C', '\u202D', '\u2066x\u2069', '\u2067', '\u2068'])('refuses the bidirectional control in %j ("Trojan Source"), naming its code point', (text) => {
    expect(textProblem(text)).toMatch(/bidirectional control character \(U\+20(2[A-E]|6[6-9])\)/);
  });

  it.each(['', 'plain', 'שלום\u200F (right-to-left mark) and \u200E left-to-right mark', 'line one\r\n\tline two', 'Ünïcödé 経理 한국', '😀 \uD83D\uDE00', 'zero\u200Bwidth (a format character, left to the fields that refuse it)'])('lets %j through', (text) => {
    expect(textProblem(text)).toBeUndefined();
  });

  it('never quotes the offending text (it may be a password)', () => {
    expect(textProblem('secret\u0000password')).not.toContain('secret');
  });
});

describe('untrustedInputProblem', () => {
  it('names where the problem is: a field, a nested field, an array item, a property name', () => {
    expect(untrustedInputProblem({ username: 'ad\u0000min' }, 'the request body')).toMatch(/^username contains a control character \(U\+0000\)/);
    expect(untrustedInputProblem({ identity: { name: 'x\u0000' } }, 'the request body')).toMatch(/^identity\.name /);
    expect(untrustedInputProblem({ roles: ['Reader', 'Op\u0000'] }, 'the request body')).toMatch(/^roles\[1\] /);
    expect(untrustedInputProblem({ ['user\u0000name']: 'x' }, 'the request body')).toMatch(/^a property name in the request body contains a control character/);
    expect(untrustedInputProblem('Pay\u0000roll', 'name', 'name')).toMatch(/^name contains/);
    expect(untrustedInputProblem({ search: ['a', 'b\u0007'] }, 'the query')).toMatch(/^search\[1\] contains a control character \(U\+0007\)/);
  });

  it('refuses "__proto__", "constructor" and "prototype" as property names at any depth (queries and forms reach here with them)', () => {
    const query = Object.create(null) as Record<string, unknown>;
    query.__proto__ = '1';
    expect(untrustedInputProblem(query, 'the query')).toBe('__proto__ is not allowed as a property name');
    expect(untrustedInputProblem({ constructor: '2' }, 'the query')).toBe('constructor is not allowed as a property name');
    expect(untrustedInputProblem({ identity: { prototype: {} } }, 'the request body')).toBe('identity.prototype is not allowed as a property name');
  });

  it('lets ordinary values of every shape through', () => {
    expect(untrustedInputProblem({ a: 1, b: true, c: null, d: [1, 'x', { e: 'line\nbreak' }], f: undefined }, 'the request body')).toBeUndefined();
    expect(untrustedInputProblem(undefined, 'the request body')).toBeUndefined();
  });

  it(`refuses nesting past ${MAX_NESTING} levels, without recursion, however deep`, () => {
    expect(untrustedInputProblem(nested(MAX_NESTING), 'the request body')).toBeUndefined();
    expect(untrustedInputProblem(nested(MAX_NESTING + 1), 'the request body')).toBe(`the request body is nested more than ${MAX_NESTING} levels deep`);
    expect(untrustedInputProblem(nested(200_000), 'the request body')).toMatch(/nested more than/);
  });
});

describe('nestedTooDeep', () => {
  it(`is true past ${MAX_NESTING} levels only, and survives 200,000`, () => {
    expect(nestedTooDeep(nested(MAX_NESTING))).toBe(false);
    expect(nestedTooDeep(nested(MAX_NESTING + 1))).toBe(true);
    expect(nestedTooDeep(nested(200_000))).toBe(true);
    expect(nestedTooDeep({ wide: new Array(10_000).fill({ a: [1] }) })).toBe(false);
  });
});
