import { describe, expect, it } from '@jest/globals';
import { clientAddress, throttleAddressKey } from './client-address.js';

describe('clientAddress', () => {
  it('keeps a resolved IP address', () => {
    expect(clientAddress('203.0.113.9', '10.0.0.5')).toBe('203.0.113.9');
    expect(clientAddress('2001:db8::1', '10.0.0.5')).toBe('2001:db8::1');
  });

  it('falls back to the peer when a believed X-Forwarded-For entry is not an address', () => {
    expect(clientAddress('x'.repeat(100), '10.0.0.5')).toBe('10.0.0.5');
    expect(clientAddress('<script>', '::1')).toBe('::1');
    expect(clientAddress(undefined, undefined)).toBe('unknown');
  });
});

describe('throttleAddressKey', () => {
  it('counts IPv4 addresses one by one, IPv4-mapped ones as IPv4', () => {
    expect(throttleAddressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(throttleAddressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const key = '2001:db8:1:2::/64';
    for (const address of ['2001:db8:1:2::1', '2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:DB8:1:2:0:0:0:9', '2001:db8:1:2::10.0.0.1', '2001:db8:1:2::1%eth0']) {
      expect(throttleAddressKey(address)).toBe(key);
    }
    expect(throttleAddressKey('2001:db8:1:3::1')).not.toBe(key);
    expect(throttleAddressKey('::1')).toBe('0:0:0:0::/64');
    expect(throttleAddressKey('fe80::')).toBe('fe80:0:0:0::/64');
  });
});
