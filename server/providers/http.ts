import type { RequestInit, Response } from 'undici';
import type { Outbound } from '../net/outbound';
import { outboundRefusal } from '../net/outbound';
import { retryAfterMs } from '../net/retry-after';
import { ProviderError } from './types';
import { assertFetchableUrl, type UrlPolicy } from './url-policy';

export const MAX_JSON_BYTES = 2 * 1024 * 1024;

export type FetchLimits = { maxBytes: number; signal: AbortSignal };

/** Reads a body up to `maxBytes`, failing early on a declared or actual size over the limit. */
async function readLimited(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new ProviderError('too_large', `response of ${declared} bytes is over the ${maxBytes}-byte limit`, res.status);
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new ProviderError('too_large', `response is over the ${maxBytes}-byte limit`, res.status);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function describeFailure(err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const refused = outboundRefusal(err);
  if (refused) return new ProviderError('refused_url', `${what} refused: ${refused.message}`);
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return new ProviderError('timeout', `${what} timed out`);
  return new ProviderError('network', `${what} failed: ${e.cause?.code ?? e.message}`);
}

/**
 * A JSON call to a provider's API through the admin-URL outbound client. Redirects are never
 * followed (an API that redirects is misbehaving, and following could reach an internal address);
 * a non-2xx, a body over the limit, a slow body past the deadline or malformed JSON each become a
 * ProviderError saying which. Errors carry the status, never the remote body: they are shown to
 * admins and analysts, and a body echoed back would turn a misdirected URL into a way to read it.
 */
export async function providerJson(http: Outbound, url: string, init: RequestInit & { signal: AbortSignal }, maxBytes = MAX_JSON_BYTES): Promise<unknown> {
  const what = `${init.method ?? 'GET'} ${new URL(url).pathname}`;
  try {
    const res = await http.fetch(url, { ...init, redirect: 'manual' });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new ProviderError('redirect', `${what} answered a redirect (HTTP ${res.status}); redirects are not followed`, res.status);
    }
    const body = await readLimited(res, maxBytes);
    if (!res.ok) {
      const wait = res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get('retry-after')) : null;
      throw new ProviderError('http', `${what} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, res.status, wait);
    }
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new ProviderError('malformed', `${what} answered malformed JSON (HTTP ${res.status}, ${body.length} bytes)`, res.status);
    }
  } catch (err) {
    throw describeFailure(err, what);
  }
}

/**
 * Downloads an image under the URL policy, following at most three redirects and checking every
 * hop, so a redirect to a private address is refused like a direct link to one; the agent checks
 * the address again when it connects.
 */
export async function fetchImage(raw: string, policy: UrlPolicy, limits: FetchLimits): Promise<{ bytes: Buffer; contentType: string }> {
  let current = raw;
  for (let hop = 0; hop <= 3; hop++) {
    const url = await assertFetchableUrl(current, policy);
    let res: Response;
    try {
      res = await policy.fetch(url, { redirect: 'manual', signal: limits.signal, headers: { accept: 'image/*' } });
    } catch (err) {
      throw describeFailure(err, `fetching the image at ${url.host}`);
    }
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      await res.body?.cancel();
      if (!location) throw new ProviderError('redirect', `image redirect without a location`, res.status);
      current = new URL(location, url).toString();
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ProviderError('http', `fetching the image answered HTTP ${res.status}`, res.status);
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!/^image\/(png|jpeg|webp|gif|avif)$/.test(contentType)) {
      await res.body?.cancel();
      throw new ProviderError('malformed', `the URL is not a supported image (content-type ${contentType || 'missing'})`, res.status);
    }
    try {
      return { bytes: await readLimited(res, limits.maxBytes), contentType };
    } catch (err) {
      throw describeFailure(err, 'reading the image');
    }
  }
  throw new ProviderError('redirect', 'too many redirects fetching the image');
}
