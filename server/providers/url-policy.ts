import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { ProviderError } from './types';

export type UrlPolicy = { allowPrivate: boolean };

/** Ranges that are never fetched, whatever the setting: cloud metadata and the like. */
const ALWAYS_REFUSED = new Set(['linkLocal', 'unspecified', 'broadcast', 'multicast', 'reserved']);
/** Ranges fetched only with ALLOW_PRIVATE_IMAGE_URLS=true (tests, local providers). */
const PRIVATE = new Set(['loopback', 'private', 'uniqueLocal', 'carrierGradeNat']);

export function addressAllowed(address: string, policy: UrlPolicy): boolean {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  if (ALWAYS_REFUSED.has(range)) return false;
  if (PRIVATE.has(range)) return policy.allowPrivate;
  return true;
}

/**
 * Checks a URL before it is fetched: http(s) only, no credentials in it, and every address its
 * host resolves to allowed by the policy, so the gateway cannot be used to probe the internal network.
 */
export async function assertFetchableUrl(raw: string, policy: UrlPolicy): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ProviderError('refused_url', `not a URL: ${raw.slice(0, 100)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ProviderError('refused_url', `only http(s) URLs are fetched, not ${url.protocol}`);
  if (url.username || url.password) throw new ProviderError('refused_url', 'URLs with credentials are refused');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = ipaddr.isValid(host) ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (addresses.length === 0) throw new ProviderError('refused_url', `cannot resolve ${host}`);
  const refused = addresses.find((a) => !addressAllowed(a, policy));
  if (refused) throw new ProviderError('refused_url', `${host} resolves to ${refused}, a private or reserved address, which is refused`);
  return url;
}
