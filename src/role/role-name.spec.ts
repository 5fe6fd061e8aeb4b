import { describe, expect, it } from '@jest/globals';
import { BUILTIN_ROLES } from './builtin-roles.js';
import { ROLE_NAME_PATTERN, roleNameKey, roleNameKeyProblem } from './role-name.js';

describe('roleNameKey', () => {
  it('gives the built-ins the keys the migrations store', () => {
    // UTS #39 skeletons: "m" looks like "rn", "l" is folded onto "i".
    expect(BUILTIN_ROLES.map(roleNameKey)).toEqual(['adrninistrator', 'operator', 'reader']);
  });

  it.each([
    'administrator',
    'ADMINISTRATOR',
    'Ａｄｍｉｎｉｓｔｒａｔｏｒ',
    'Аdministrator', // Cyrillic А
    'Admіnistrator', // Cyrillic і
    'Adminístrator',
    'Admin1strator',
    'Adm1n1strat0r',
    'Administrat0r',
    'Admin istrator',
    'ADMIN ISTRATOR',
    'Admin-istrator',
    'AdmlnIstrator',
    'Administratօr', // Armenian օ
    'Adrninistrator', // r + n for m
    'ΑdmΙnΙstrator', // Greek Α and Ι
    'Admınıstrator', // dotless ı
    'Adm\u0131nistrato\u0072',
    'A\u0064ministrator', // plain, written with an escape
    '𝐀𝐝𝐦𝐢𝐧𝐢𝐬𝐭𝐫𝐚𝐭𝐨𝐫', // mathematical bold
    'Ꭺdministrator', // Cherokee Ꭺ
  ])('folds %s onto Administrator', (name) => {
    expect(roleNameKey(name)).toBe(roleNameKey('Administrator'));
  });

  it.each(['Οperator', 'Operat0r', 'Оperator', 'Reаder', 'Rеader', 'R e a d e r'])('folds %s onto a built-in', (name) => {
    expect(['operator', 'reader']).toContain(roleNameKey(name));
  });

  it('keeps different names apart', () => {
    expect(roleNameKey('Payroll')).not.toBe(roleNameKey('Payments'));
    expect(roleNameKey('Operators')).not.toBe(roleNameKey('Operator'));
    expect(roleNameKey('経理')).not.toBe(roleNameKey('経営'));
    expect(roleNameKey('한국')).not.toBe(roleNameKey('한글'));
  });

  it('keeps keys short enough for their column, even for the names that fold longest', () => {
    expect(roleNameKey('한'.repeat(30)).length).toBeLessThanOrEqual(60);
    expect(roleNameKeyProblem('한'.repeat(30))).toBeUndefined();
    // Six code points per syllable: 384 for the longest name the pattern admits.
    expect([...roleNameKey('꽦'.repeat(64))].length).toBe(384);
    expect(roleNameKeyProblem('꽦'.repeat(64))).toBeUndefined();
    expect(roleNameKeyProblem('𑫩'.repeat(64))).toBeUndefined();
  });

  it('reaches a fixed point: folding a key again changes nothing', () => {
    for (const name of ['Administrator', 'Аdministrator', 'Payroll Admins', '한국', 'Ｐａｙｍｅｎｔｓ', 'ǅemal']) {
      expect(roleNameKey(roleNameKey(name))).toBe(roleNameKey(name));
    }
  });
});

describe('roleNameKeyProblem', () => {
  it('refuses a name whose key would be empty, or (past what the pattern admits) would not fit', () => {
    expect(roleNameKeyProblem('m'.repeat(64))).toBeUndefined();
    expect(roleNameKeyProblem('\u0660')).toMatch(/no letters or digits/);
    expect(roleNameKeyProblem('\u06F0\u0660')).toMatch(/no letters or digits/);
    expect(roleNameKeyProblem('꽦'.repeat(86))).toMatch(/too long once folded for look-alike comparison \(516 of at most 512/);
  });
});

describe('ROLE_NAME_PATTERN', () => {
  it.each(['Payroll', 'Payroll Admins', 'team.dev-ops_2', 'Équipe', '経理'])('accepts %s', (name) => {
    expect(ROLE_NAME_PATTERN.test(name)).toBe(true);
  });
  it.each(['', 'A,B', '-x', ' x', 'zero\u200Bwidth', 'tab\there', 'x'.repeat(65)])('refuses %j', (name) => {
    expect(ROLE_NAME_PATTERN.test(name)).toBe(false);
  });
});
