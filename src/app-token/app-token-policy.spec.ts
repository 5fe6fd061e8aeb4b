import { describe, expect, it } from '@jest/globals';
import type { Principal } from '../auth/principal.js';
import { childExpiry, roleTheCallerLacks, tokenEnd } from './app-token-policy.js';

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

describe('tokenEnd', () => {
  const d = (iso: string) => new Date(iso);
  it('is the earlier of expiry and revocation, or null when neither is set', () => {
    expect(tokenEnd({ expiresAt: d('2027-01-01T00:00:00Z'), revokedAt: d('2026-12-01T00:00:00Z') })).toEqual(d('2026-12-01T00:00:00Z'));
    expect(tokenEnd({ expiresAt: d('2027-01-01T00:00:00Z'), revokedAt: null })).toEqual(d('2027-01-01T00:00:00Z'));
    expect(tokenEnd({ expiresAt: null, revokedAt: d('2026-12-01T00:00:00Z') })).toEqual(d('2026-12-01T00:00:00Z'));
    expect(tokenEnd({ expiresAt: null, revokedAt: null })).toBeNull();
  });
});

describe('childExpiry', () => {
  const parentEnd = new Date('2027-01-01T00:00:00Z');
  it('keeps a lifetime within the parent, and any lifetime under a parent that never ends', () => {
    expect(childExpiry(new Date('2026-12-01T00:00:00Z'), true, parentEnd)).toEqual({ expiresAt: new Date('2026-12-01T00:00:00Z') });
    expect(childExpiry(null, true, null)).toEqual({ expiresAt: null });
  });
  it('refuses an asked-for lifetime, "never" included, that outlives the parent', () => {
    expect(childExpiry(new Date('2027-06-01T00:00:00Z'), true, parentEnd)).toHaveProperty('problem', expect.stringMatching(/cannot outlive it/));
    expect(childExpiry(null, true, parentEnd)).toHaveProperty('problem');
  });
  it("caps the default lifetime to the parent's end", () => {
    expect(childExpiry(new Date('2027-06-01T00:00:00Z'), false, parentEnd)).toEqual({ expiresAt: parentEnd });
  });
});
