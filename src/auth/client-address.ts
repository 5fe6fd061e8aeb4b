import { isIP } from 'node:net';

/**
 * The client's address as fastify resolved it through TRUST_PROXY, when it is an IP address. A believed
 * X-Forwarded-For entry can be any text (a client in front of a trusted proxy, or anyone with
 * TRUST_PROXY=true): then the peer that sent it stands for the client, so no made-up text reaches the audit
 * log, a session or the throttle (and none longer than their 64-character columns).
 */
export function clientAddress(resolved: string | undefined, peer: string | undefined): string {
  if (resolved !== undefined && isIP(resolved) !== 0) return resolved;
  return peer !== undefined && isIP(peer) !== 0 ? peer : 'unknown';
}

/**
 * What the sign-in throttle counts per address: an IPv4 address as it is (also when written IPv4-mapped),
 * and an IPv6 address by its /64, which one client usually holds whole: counted one by one, a client could
 * spend a fresh address on every attempt.
 */
export function throttleAddressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIP(address) !== 6) return address.slice(0, 64);
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros. */
function expandIPv6(address: string): string[] {
  let text = address.split('%')[0].toLowerCase();
  // A trailing dotted IPv4 part is two groups.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((group) => parseInt(group, 16).toString(16));
}
