import { describe, expect, it } from '@jest/globals';
import type { Principal } from '../auth/principal.js';
import { roleTheCallerLacks } from './app-token-policy.js';

const caller = (roles: string[], via: 'token' | 'session' = 'token', tokenId = 1): Principal => ({ identityId: 7, name: 'x', source: 'local', roles, via, tokenId: via === 'token' ? tokenId : undefined });

describe('roleTheCallerLacks', () => {
  it("names the first role of the target a token caller does not hold", () => {
    expect(roleTheCallerLacks(caller(['Reader']), { id: 2, roles: ['Administrator', 'Reader'] })).toBe('Administrator');
    expect(roleTheCallerLacks(caller(['Operator', 'Reader']), { id: 2, roles: ['Reader', 'Payroll'] })).toBe('Payroll');
  });
  it('lets a token act on tokens whose roles it all holds, and on itself whatever its roles', () => {
    expect(roleTheCallerLacks(caller(['Operator', 'Reader']), { id: 2, roles: ['Reader'] })).toBeUndefined();
    expect(roleTheCallerLacks(caller([], 'token', 2), { id: 2, roles: ['Operator'] })).toBeUndefined();
  });
  it('leaves sessions and Administrator tokens alone', () => {
    expect(roleTheCallerLacks(caller(['Reader'], 'session'), { id: 2, roles: ['Operator'] })).toBeUndefined();
    expect(roleTheCallerLacks(caller(['Administrator']), { id: 2, roles: ['Payroll'] })).toBeUndefined();
  });
});
