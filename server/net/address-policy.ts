import ipaddr from 'ipaddr.js';

/** Whether loopback and private ranges may be reached (tests, local providers); the rest never may. */
export type AddressPolicy = { allowPrivate: boolean };

/** Ranges reached only when the policy allows private addresses. */
const PRIVATE_RANGES = new Set(['loopback', 'private', 'uniqueLocal', 'carrierGradeNat']);

/**
 * Cloud metadata services that sit inside ranges the private setting opens (AWS's IPv6 endpoint is
 * unique-local, Alibaba's is carrier-grade NAT); the IPv4 link-local one is refused with its range.
 */
const METADATA = new Set(['fd00:ec2::254', '100.100.100.200']);

/**
 * The IPv4 address an IPv6 address carries, for the forms that route to it: IPv4-mapped and
 * IPv4-compatible (::/96), IPv4-translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96), 6to4
 * (2002::/16, bits 16–47) and Teredo (2001::/32: the server in bits 32–63, the client inverted in
 * the last 32). Without this check `[::ffff:127.0.0.1]` or `[2002:7f00:1::]` would reach loopback.
 */
export function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = address.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zeros = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && p[5] === 0xffff) return [v4(p[6]!, p[7]!)];
  if (zeros(0, 6)) return [v4(p[6]!, p[7]!)];
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return [v4(p[6]!, p[7]!)];
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return [v4(p[6]!, p[7]!)];
  if (p[0] === 0x2002) return [v4(p[1]!, p[2]!)];
  if (p[0] === 0x2001 && p[1] === 0) return [v4(p[2]!, p[3]!), v4(p[6]! ^ 0xffff, p[7]! ^ 0xffff)];
  return [];
}

function refuseIPv4(address: ipaddr.IPv4, policy: AddressPolicy): string | null {
  const range = address.range();
  if (METADATA.has(address.toString())) return 'a cloud metadata address';
  if (range === 'unicast') return null;
  if (PRIVATE_RANGES.has(range)) return policy.allowPrivate ? null : `a ${range} address`;
  return `a ${range} address`;
}

/**
 * Why `address` may not be reached under `policy`, or null when it may. Public unicast only, plus
 * loopback and private ranges when allowed; link-local (metadata), unspecified, multicast, reserved
 * and every other special range always refused; an IPv6 form that embeds an IPv4 address is judged
 * by that address (a NAT64 or 6to4 route to a public address stays usable).
 */
export function addressRefusal(address: string, policy: AddressPolicy): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return refuseIPv4(parsed as ipaddr.IPv4, policy);
  const v6 = parsed as ipaddr.IPv6;
  if (v6.zoneId) return 'a scoped IPv6 address';
  if (METADATA.has(v6.toString())) return 'a cloud metadata address';
  const embedded = v6.range() === 'loopback' || v6.range() === 'unspecified' ? [] : embeddedIPv4(v6);
  if (embedded.length) {
    for (const inner of embedded) {
      const refused = refuseIPv4(inner, policy);
      if (refused) return `an IPv6 form of ${inner.toString()}, ${refused}`;
    }
    return null;
  }
  const range = v6.range();
  if (range === 'unicast') return null;
  if (PRIVATE_RANGES.has(range)) return policy.allowPrivate ? null : `a ${range} address`;
  return `a ${range} address`;
}

export const addressAllowed = (address: string, policy: AddressPolicy) => addressRefusal(address, policy) === null;
