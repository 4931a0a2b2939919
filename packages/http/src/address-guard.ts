import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { HttpError } from './errors.js';

/**
 * The SSRF guard: addresses a webhook must not reach unless the caller allows private targets.
 * Loopback, "this network", RFC 1918 private, carrier-grade NAT, link-local (169.254.0.0/16, where
 * cloud metadata services live), benchmarking, multicast and reserved ranges; for IPv6 loopback,
 * unspecified, unique-local (fc00::/7, including AWS's fd00:ec2::254), link-local, multicast, and
 * IPv4-mapped or NAT64 forms of the IPv4 ranges.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

/** Whether `address` (an IPv4 or IPv6 literal) is one the SSRF guard refuses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return false;
  const lower = address.toLowerCase();
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible and NAT64 (64:ff9b::a.b.c.d) forms: check the IPv4 inside.
  const embedded = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (embedded) return blocked.check(embedded[1]!, 'ipv4');
  const mappedHex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (mappedHex) {
    const hi = parseInt(mappedHex[1]!, 16);
    const lo = parseInt(mappedHex[2]!, 16);
    return blocked.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
  }
  return blocked.check(lower, 'ipv6');
}

function refused(url: string, why: string): HttpError {
  return new HttpError('SNOOPY_HTTP_ADDRESS_REFUSED', `Refusing ${url}: ${why} (pass allowPrivate: true to allow it)`, { url });
}

/**
 * Checks what can be checked without DNS: the scheme, IP literals and `localhost` names.
 * Throws `SNOOPY_HTTP_ADDRESS_REFUSED`; returns the parsed URL.
 */
export function checkUrl(raw: string | URL, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch (cause) {
    throw new HttpError('SNOOPY_HTTP_ADDRESS_REFUSED', `Refusing ${JSON.stringify(String(raw))}: not a URL`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(url.href, `only http and https are allowed, not ${url.protocol}`);
  if (url.username || url.password) throw refused(url.origin, 'credentials in the URL are not allowed (use headers)');
  if (allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isPrivateAddress(host)) throw refused(url.href, `${host} is a loopback, private, link-local or reserved address`);
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) {
    throw refused(url.href, `${host} names a local or internal host`);
  }
  return url;
}

/**
 * A `lookup` for `http.request` that refuses names resolving to a private address, checked on the
 * addresses actually connected to (so DNS rebinding between a check and the connect cannot pass).
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(refused(hostname, `it resolves to ${bad.address}, a loopback, private, link-local or reserved address`) as unknown as NodeJS.ErrnoException, '', 0);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};
