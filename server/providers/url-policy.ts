import { Outbound, OutboundRefusedError } from '../net/outbound';
import { ProviderError } from './types';

/**
 * The policy image URLs are fetched under: the outbound client built from ALLOW_PRIVATE_IMAGE_URLS,
 * whose agent checks every connection's address again at connect time.
 */
export type UrlPolicy = Outbound;

/**
 * Checks a URL before it is fetched: http(s) only, no credentials in it, and every address its
 * host resolves to allowed by the policy, so the gateway cannot be used to probe the internal network.
 * This is the early, friendly refusal; the agent's connect-time lookup is what closes DNS rebinding.
 */
export async function assertFetchableUrl(raw: string, policy: UrlPolicy): Promise<URL> {
  try {
    return await policy.checkUrl(raw);
  } catch (err) {
    if (err instanceof OutboundRefusedError) throw new ProviderError('refused_url', err.message);
    throw err;
  }
}
