import { describe, expect, it } from '@jest/globals';
import { BUILTIN_ROLES } from './builtin-roles.js';
import { ROLE_NAME_PATTERN, roleNameKey } from './role-name.js';

describe('roleNameKey', () => {
  it('gives the built-ins the keys the seed migration stores', () => {
    expect(BUILTIN_ROLES.map(roleNameKey)).toEqual(['administrator', 'operator', 'reader']);
  });

  it.each(['administrator', 'ADMINISTRATOR', 'Ａｄｍｉｎｉｓｔｒａｔｏｒ', 'Аdministrator', 'Admіnistrator', 'Adminístrator', 'Admin1strator', 'Adm1n1strat0r', 'Admin istrator', 'Admin-istrator', 'AdmlnIstrator'])(
    'folds %s onto Administrator',
    (name) => {
      expect(roleNameKey(name)).toBe(roleNameKey('Administrator'));
    },
  );

  it('keeps different names apart', () => {
    expect(roleNameKey('Payroll')).not.toBe(roleNameKey('Payments'));
    expect(roleNameKey('Operators')).not.toBe(roleNameKey('Operator'));
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
