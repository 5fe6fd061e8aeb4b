import { describe, expect, it } from '@jest/globals';
import { sortRoleNames } from './sort-role-names.js';

describe('sortRoleNames', () => {
  it('puts the built-ins first in their fixed order, then custom roles by name', () => {
    expect(sortRoleNames(['payroll', 'Reader', 'Audit', 'Administrator', 'Operator'])).toEqual(['Administrator', 'Operator', 'Reader', 'Audit', 'payroll']);
  });
});
