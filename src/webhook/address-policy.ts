import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may be sent (SSRF, issue 11): a pure judgement of URLs, host names and addresses against
 * WEBHOOK_ALLOWED_HOSTS. The network side (resolving a name, connecting to the very address judged) is
 * webhook-sender.ts's.
 */

/** Why an address is not public, or undefined when it is a global unicast address. */
export function nonPublicReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) return ipv4Reason(ipv4Bytes(address));
  if (family === 6) return ipv6Reason(address);
  return 'not an IP address';
}

const V4_RANGES: ReadonlyArray<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT (shared)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (and broadcast)'],
];

/**
 * Cloud metadata services on addresses the ranges above do not catch (AWS's IPv6 one is unique-local anyway;
 * Azure's wire server is a public address). Refused even under `*`; allowed only when listed exactly.
 */
export const METADATA_ADDRESSES: ReadonlySet<string> = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', '168.63.129.16', 'fd00:ec2::254', '192.0.0.192']);

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

function ipv4Reason(bytes: number[]): string | undefined {
  const dotted = bytes.join('.');
  if (METADATA_ADDRESSES.has(dotted)) return 'cloud metadata';
  const value = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  for (const [base, prefix, reason] of V4_RANGES) {
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    const b = ipv4Bytes(base);
    const baseValue = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    if ((value & mask) >>> 0 === baseValue) return reason;
  }
  return undefined;
}

/** The 16 bytes of an IPv6 address (with or without an embedded dotted IPv4 tail). */
export function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase();
  let tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail = ipv4Bytes(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = groups.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

const V6_REASONS: ReadonlyArray<[string, number, string]> = [
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001::', 32, 'Teredo tunnel'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique-local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

function ipv6Reason(address: string): string | undefined {
  if (address.includes('%')) return 'link-local (scoped)';
  const bytes = ipv6Bytes(address);
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  const canonical = (hex.match(/.{4}/g) ?? []).join(':');
  if (METADATA_ADDRESSES.has(compressed(canonical))) return 'cloud metadata';
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  const embedded = (at: number) => bytes.slice(at, at + 4);
  if (zeros(0, 16)) return 'unspecified';
  if (zeros(0, 15) && bytes[15] === 1) return 'loopback';
  // Forms that carry an IPv4 address: judged as that address.
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return via('IPv4-mapped', ipv4Reason(embedded(12)));
  if (zeros(0, 12)) return via('IPv4-compatible', ipv4Reason(embedded(12)) ?? 'deprecated');
  if (hex.startsWith('0064ff9b0000000000000000')) return via('NAT64', ipv4Reason(embedded(12)));
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return via('6to4', ipv4Reason(embedded(2)));
  for (const [base, prefix, reason] of V6_REASONS) {
    const one = new BlockList();
    one.addSubnet(base, prefix, 'ipv6');
    if (one.check(canonical, 'ipv6')) return reason;
  }
  if (!GLOBAL_UNICAST.check(canonical, 'ipv6')) return 'not global unicast (reserved)';
  return undefined;
}

function via(form: string, reason: string | undefined): string | undefined {
  return reason === undefined ? undefined : `${form} form of ${reason}`;
}

function compressed(canonical: string): string {
  return canonical
    .split(':')
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/:::+/, '::');
}

/** A WEBHOOK_ALLOWED_HOSTS entry: `*`, a host name, an address or a CIDR range. */
export type AllowedHost = { kind: 'any' } | { kind: 'name'; name: string } | { kind: 'range'; text: string; list: BlockList; single: string | undefined };

export interface AllowedHosts {
  /** `*`: any host whose addresses are all public. */
  anyPublic: boolean;
  names: ReadonlySet<string>;
  ranges: ReadonlyArray<Extract<AllowedHost, { kind: 'range' }>>;
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** Parses WEBHOOK_ALLOWED_HOSTS; throws an Error naming the bad entry. */
export function parseAllowedHosts(raw: string): AllowedHosts {
  const entries = raw.split(',').map((entry) => entry.trim());
  let anyPublic = false;
  const names = new Set<string>();
  const ranges: Array<Extract<AllowedHost, { kind: 'range' }>> = [];
  for (const entry of entries) {
    if (entry === '') throw new Error('has an empty entry');
    if (entry === '*') {
      anyPublic = true;
      continue;
    }
    const [first, prefix, ...extra] = entry.split('/');
    const address = first.replace(/^\[(.*)\]$/, '$1');
    const family = isIP(address);
    if (family !== 0 && extra.length === 0) {
      const max = family === 4 ? 32 : 128;
      if (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max)) throw new Error(`"${entry}" has a prefix length outside 0 to ${max}`);
      const list = new BlockList();
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(prefix), type);
      ranges.push({ kind: 'range', text: entry, list, single: prefix === undefined ? canonicalAddress(address) : undefined });
      continue;
    }
    if (prefix === undefined && HOST_NAME.test(entry) && !/^[\d.]+$/.test(entry)) {
      names.add(entry.toLowerCase().replace(/\.$/, ''));
      continue;
    }
    throw new Error(`"${entry}" is not *, a host name, an IP address or a CIDR range`);
  }
  return { anyPublic, names, ranges };
}

export const DEFAULT_ALLOWED_HOSTS = '*';

/** An address as compared: IPv6 compressed and lower case, IPv4 as is. */
function canonicalAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  const hex = ipv6Bytes(address)
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
  return compressed((hex.match(/.{4}/g) ?? []).join(':'));
}

/**
 * The host as the HTTP client will see it: WHATWG URL parsing turns `127.1`, `0x7f000001` or `2130706433` into
 * 127.0.0.1 and lower-cases names, so what is judged is what is connected to.
 */
export interface WebhookTarget {
  url: URL;
  /** Lower case, without IPv6 brackets or a trailing dot. */
  host: string;
  /** 4 or 6 for a literal address, 0 for a name. */
  family: 0 | 4 | 6;
}

/** Parses and checks a webhook URL's form: http(s), no credentials, a host. Throws an Error saying what is wrong. */
export function webhookTarget(raw: string): WebhookTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('url is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`url must be http or https, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username !== '' || url.password !== '') throw new Error('url must not carry credentials (user:password@); authenticate the request with the signature');
  if (url.hash !== '') throw new Error('url must not have a #fragment');
  if (url.port === '0') throw new Error('url must not name port 0');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  if (host === '') throw new Error('url has no host');
  const family = isIP(host) as 0 | 4 | 6;
  return { url, host, family };
}

/**
 * Whether a request to `host` at `address` is allowed: a host name listed in WEBHOOK_ALLOWED_HOSTS is allowed
 * whatever its addresses (the operator vouched for it) but a cloud metadata one; an address inside a listed address or range too, except
 * a cloud metadata address, which only an exact listing of that address allows; under `*`, any public address.
 * Returns why not, or undefined.
 */
export function addressRefusal(allowed: AllowedHosts, host: string, address: string): string | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (family === 0) return `${address} is not an IP address`;
  const canonical = canonicalAddress(bare);
  const metadata = nonPublicReason(bare)?.includes('cloud metadata') === true;
  // A listed name may resolve anywhere but to a metadata address, which only its exact listing allows (a name
  // an attacker can point, or an internal name re-pointed, must not reach the cloud's credentials).
  if (allowed.names.has(host) && !metadata) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const range of allowed.ranges) {
    if (!range.list.check(bare, type)) continue;
    if (!metadata || range.single === canonical) return undefined;
  }
  const reason = nonPublicReason(bare);
  if (allowed.anyPublic && reason === undefined) return undefined;
  const where = host === bare ? bare : `${host} (${bare})`;
  if (reason !== undefined) return `${where} is not a public address (${reason}); refused unless WEBHOOK_ALLOWED_HOSTS lists it`;
  return `${where} is not listed in WEBHOOK_ALLOWED_HOSTS`;
}
