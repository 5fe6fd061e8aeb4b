import { describe, expect, it } from '@jest/globals';
import type { Principal } from '../auth/principal.js';
import { childExpiry, DAY_MS, grantableRoles, lifetimePolicy, mayReadStoredValue, requestedExpiry, roleNotHeld, roleTheCallerLacks, rotatedExpiry, tokenEnd } from './app-token-policy.js';

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

describe('lifetime policy', () => {
  const now = Date.parse('2026-11-29T00:00:00Z');
  const open = lifetimePolicy({ appTokenDefaultLifetimeDays: 365 });
  const capped = lifetimePolicy({ appTokenDefaultLifetimeDays: 365, appTokenMaxLifetimeDays: 90 });
  it('caps the default lifetime to the maximum', () => {
    expect(open).toEqual({ defaultDays: 365, maxDays: undefined });
    expect(capped).toEqual({ defaultDays: 90, maxDays: 90 });
  });
  it('takes lifespanDays, a date or never, in whole seconds; refuses both at once, the past, and beyond the maximum', () => {
    expect(requestedExpiry({}, now, open)).toEqual(new Date(now + 365 * DAY_MS));
    expect(requestedExpiry({ lifespanDays: 2 }, now, open)).toEqual(new Date(now + 2 * DAY_MS));
    expect(requestedExpiry({ expiration: new Date(now + 1500) }, now, open)).toEqual(new Date(now + 1000));
    expect(requestedExpiry({ expiration: 'never' }, now, open)).toBeNull();
    expect(() => requestedExpiry({ lifespanDays: 1, expiration: 'never' }, now, open)).toThrow(/not both/);
    expect(() => requestedExpiry({ expiration: new Date(now - 1) }, now, open)).toThrow(/future/);
    expect(() => requestedExpiry({ expiration: 'never' }, now, capped)).toThrow(/must expire/);
    expect(() => requestedExpiry({ lifespanDays: 91 }, now, capped)).toThrow(/exceeds the maximum of 90 days/);
  });
  it('gives a rotated token the old lifetime from now', () => {
    expect(rotatedExpiry({ createdAt: new Date(0), expiresAt: new Date(DAY_MS) }, now)).toEqual(new Date(now + DAY_MS));
    expect(rotatedExpiry({ createdAt: new Date(0), expiresAt: null }, now)).toBeNull();
  });
});

describe('grantableRoles', () => {
  const role = (id: number, name: string) => ({ id, name, nameKey: name.toLowerCase() });
  const [admin, operator, reader] = [role(1, 'Administrator'), role(2, 'Operator'), role(3, 'Reader')];
  const me = { id: 7, name: 'x', roles: [admin, operator, reader] };
  const bot = { id: 9, name: 'bot', roles: [operator, reader] };
  it("gives a caller granting itself all it holds in this request, and refuses a role it lacks now", () => {
    expect(grantableRoles(caller(['Operator', 'Reader'], 'session'), me, undefined)).toEqual([operator, reader]);
    expect(() => grantableRoles(caller(['Reader']), me, ['Operator'])).toThrow(/do not hold role "Operator" in this request/);
    expect(() => grantableRoles(caller(['Reader']), me, [])).toThrow(/at least one role/);
  });
  it("lets an Administrator's session give another identity any of its roles, but a token only those it holds", () => {
    expect(grantableRoles(caller(['Administrator'], 'session'), bot, undefined)).toEqual([operator, reader]);
    expect(grantableRoles(caller(['Administrator', 'Reader']), bot, undefined)).toEqual([reader]);
    expect(() => grantableRoles(caller(['Administrator']), bot, undefined)).toThrow(/none of identity "bot"'s roles/);
    expect(() => grantableRoles(caller(['Administrator'], 'session'), bot, ['Administrator'])).toThrow(/Identity "bot" does not hold role/);
  });
  it("bounds a provisioning grant (a service identity's own token) by the identity's roles only, not the caller token's", () => {
    expect(grantableRoles(caller(['Administrator']), bot, undefined, { provisioning: true })).toEqual([operator, reader]);
    expect(grantableRoles(caller(['Administrator']), bot, ['Operator'], { provisioning: true })).toEqual([operator]);
    expect(() => grantableRoles(caller(['Administrator']), bot, ['Administrator'], { provisioning: true })).toThrow(/Identity "bot" does not hold role "Administrator"/);
  });
});

describe('roleNotHeld and mayReadStoredValue', () => {
  it('exempt Administrators (an Administrator token only from reading) and otherwise need every role', () => {
    expect(roleNotHeld(caller(['Operator']), ['Operator', 'Reader'])).toBe('Reader');
    expect(roleNotHeld(caller(['Administrator'], 'session'), ['Payroll'])).toBeUndefined();
    // A rotation made with a token is a grant by it: an Administrator token grants no role it lacks.
    expect(roleNotHeld(caller(['Administrator']), ['Payroll'])).toBe('Payroll');
    expect(mayReadStoredValue(caller(['Reader']), ['Reader'])).toBe(true);
    expect(mayReadStoredValue(caller(['Reader']), ['Operator', 'Reader'])).toBe(false);
    expect(mayReadStoredValue(caller(['Administrator']), ['Payroll'])).toBe(true);
  });
});
