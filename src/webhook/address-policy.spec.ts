import { describe, expect, it } from '@jest/globals';
import { addressRefusal, nonPublicReason, parseAllowedHosts, webhookTarget } from './address-policy.js';

const ANY_PUBLIC = parseAllowedHosts('*');

/** The literal host of a URL as the HTTP client will connect to it, judged under `*`. */
function refusalOf(host: string, allowed = ANY_PUBLIC): string | undefined {
  const target = webhookTarget(`http://${host}/hook`);
  expect(target.family).not.toBe(0);
  return addressRefusal(allowed, target.host, target.host);
}

describe('webhook address policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['[::1]', 'loopback'],
    ['[0:0:0:0:0:0:0:1]', 'loopback'],
    ['[::ffff:127.0.0.1]', 'IPv4-mapped form of loopback'],
    ['[::ffff:7f00:1]', 'IPv4-mapped form of loopback'],
    ['[::127.0.0.1]', 'IPv4-compatible form of loopback'],
    ['[64:ff9b::7f00:1]', 'NAT64 form of loopback'],
    ['[64:ff9b::10.1.2.3]', 'NAT64 form of private'],
    ['[2002:7f00:1::]', '6to4 form of loopback'],
    ['[2002:a9fe:a9fe::1]', '6to4 form of cloud metadata'],
    ['169.254.169.254', 'cloud metadata'],
    ['[::ffff:169.254.169.254]', 'IPv4-mapped form of cloud metadata'],
    ['169.254.1.1', 'link-local'],
    ['100.100.100.200', 'cloud metadata'],
    ['168.63.129.16', 'cloud metadata'],
    ['[fd00:ec2::254]', 'cloud metadata'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['[::]', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['[fd00::]', 'unique-local'],
    ['[fc00::1]', 'unique-local'],
    ['[fe80::1]', 'link-local'],
    ['[ff02::1]', 'multicast'],
    ['[2001:db8::1]', 'documentation'],
    ['[2001:0:4136:e378:8000:63bf:3fff:fdd2]', 'Teredo'],
    ['[64:ff9b:1::1]', 'local-use NAT64'],
    ['[100::1]', 'discard'],
    ['[4000::1]', 'not global unicast'],
  ])('refuses %s (%s) under the default setting', (host, reason) => {
    const refusal = refusalOf(host);
    expect(refusal).toBeDefined();
    expect(refusal).toContain(reason);
    expect(refusal).toContain('WEBHOOK_ALLOWED_HOSTS');
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '100.63.255.255', '100.128.0.1', '172.32.0.1', '169.253.255.255', '[2606:4700:4700::1111]', '[::ffff:8.8.8.8]', '[64:ff9b::808:808]', '[2002:808:808::1]'])('allows the public address %s under the default setting', (host) => {
    expect(refusalOf(host)).toBeUndefined();
  });

  it('classifies bare addresses the same way a resolver returns them', () => {
    expect(nonPublicReason('127.0.0.1')).toBe('loopback');
    expect(nonPublicReason('::ffff:10.0.0.1')).toBe('IPv4-mapped form of private');
    expect(nonPublicReason('fe80::1%eth0')).toContain('link-local');
    expect(nonPublicReason('8.8.8.8')).toBeUndefined();
    expect(nonPublicReason('2a00:1450:4001:82b::200e')).toBeUndefined();
    expect(nonPublicReason('not-an-address')).toBe('not an IP address');
  });

  it('lets a listed address, range or host name through even when it is not public', () => {
    const allowed = parseAllowedHosts('*, 127.0.0.1, 10.1.0.0/16, [::1], hooks.internal');
    expect(refusalOf('127.0.0.1', allowed)).toBeUndefined();
    expect(refusalOf('127.1', allowed)).toBeUndefined();
    expect(refusalOf('127.0.0.2', allowed)).toContain('loopback');
    expect(refusalOf('10.1.200.3', allowed)).toBeUndefined();
    expect(refusalOf('10.2.0.1', allowed)).toContain('private');
    expect(refusalOf('[::1]', allowed)).toBeUndefined();
    expect(addressRefusal(allowed, 'hooks.internal', '10.9.9.9')).toBeUndefined();
    expect(addressRefusal(allowed, 'other.internal', '10.9.9.9')).toContain('other.internal (10.9.9.9)');
    // A listed name resolving to a cloud metadata address is still refused: only that address, listed, allows it.
    expect(addressRefusal(allowed, 'hooks.internal', '169.254.169.254')).toContain('cloud metadata');
    expect(addressRefusal(parseAllowedHosts('hooks.internal,169.254.169.254'), 'hooks.internal', '169.254.169.254')).toBeUndefined();
    expect(refusalOf('8.8.8.8', allowed)).toBeUndefined();
  });

  it('without * allows only what is listed', () => {
    const allowed = parseAllowedHosts('hooks.example.com,203.0.113.0/24');
    expect(addressRefusal(allowed, 'hooks.example.com', '8.8.8.8')).toBeUndefined();
    expect(addressRefusal(allowed, 'elsewhere.example.com', '8.8.8.8')).toContain('not listed');
    expect(refusalOf('203.0.113.7', allowed)).toBeUndefined();
    expect(refusalOf('8.8.4.4', allowed)).toContain('not listed');
  });

  it('allows a cloud metadata address only when that exact address is listed', () => {
    expect(refusalOf('169.254.169.254', parseAllowedHosts('*,169.254.0.0/16'))).toContain('cloud metadata');
    expect(refusalOf('169.254.1.1', parseAllowedHosts('*,169.254.0.0/16'))).toBeUndefined();
    expect(refusalOf('169.254.169.254', parseAllowedHosts('169.254.169.254'))).toBeUndefined();
  });

  it.each([
    ['ftp://example.com/', 'http or https'],
    ['file:///etc/passwd', 'http or https'],
    ['gopher://example.com/', 'http or https'],
    ['http://user:pass@example.com/', 'credentials'],
    ['http://user@example.com/', 'credentials'],
    ['https://example.com/#x', 'fragment'],
    ['http://example.com:0/', 'port 0'],
    ['example.com/hook', 'absolute URL'],
    ['http://', 'absolute URL'],
  ])('refuses the URL %s', (url, problem) => {
    expect(() => webhookTarget(url)).toThrow(problem);
  });

  it('reads host names in lower case without their trailing dot', () => {
    expect(webhookTarget('https://Hooks.Example.COM./x').host).toBe('hooks.example.com');
    expect(webhookTarget('https://hooks.example.com/x').family).toBe(0);
    expect(webhookTarget('http://[::ffff:127.0.0.1]:8080/').host).toBe('::ffff:7f00:1');
  });

  it.each(['', '*,', 'not a host!', '10.0.0.0/33', '::1/129', 'a/b/c', '1.2.3'])('refuses the setting %j', (raw) => {
    expect(() => parseAllowedHosts(raw)).toThrow();
  });
});
