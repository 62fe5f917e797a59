import { STATUS_CODES } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Outbound, OutboundRequest } from '../net/outbound';
import { outboundRefusal } from '../net/outbound';
import { retryAfterMs } from '../net/retry-after';
import { ProviderError } from './types';
import { assertFetchableUrl, type UrlPolicy } from './url-policy';

export const MAX_JSON_BYTES = 2 * 1024 * 1024;

export type FetchLimits = { maxBytes: number; signal: AbortSignal };

type Answer = Dispatcher.ResponseData;

/** One header of an answer (undici gives them lower-cased, a repeated one as an array). */
const header = (res: Answer, name: string): string | null => {
  const value = res.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
};

/** Reads a body up to `maxBytes`, failing early on a declared or actual size over the limit (the rest is discarded). */
async function readLimited(res: Answer, maxBytes: number): Promise<Buffer> {
  const declared = Number(header(res, 'content-length') ?? 0);
  if (declared > maxBytes) {
    res.body.destroy();
    throw new ProviderError('too_large', `response of ${declared} bytes is over the ${maxBytes}-byte limit`, res.statusCode);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early (the limit) destroys the stream, so the rest is never read.
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new ProviderError('too_large', `response is over the ${maxBytes}-byte limit`, res.statusCode);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Discards a body not to be read, so its connection goes back to the pool. */
const discard = (res: Answer) => res.body.dump().catch(() => undefined);

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
export async function providerJson(http: Outbound, url: string, init: OutboundRequest, maxBytes = MAX_JSON_BYTES): Promise<unknown> {
  const what = `${init.method ?? 'GET'} ${new URL(url).pathname}`;
  try {
    const res = await http.request(url, init);
    const status = res.statusCode;
    if (status >= 300 && status < 400) {
      await discard(res);
      throw new ProviderError('redirect', `${what} answered a redirect (HTTP ${status}); redirects are not followed`, status);
    }
    const body = await readLimited(res, maxBytes);
    if (status < 200 || status >= 300) {
      const wait = status === 429 || status === 503 ? retryAfterMs(header(res, 'retry-after')) : null;
      const phrase = STATUS_CODES[status];
      throw new ProviderError('http', `${what} answered HTTP ${status}${phrase ? ` ${phrase}` : ''}`, status, wait);
    }
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new ProviderError('malformed', `${what} answered malformed JSON (HTTP ${status}, ${body.length} bytes)`, status);
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
    let res: Answer;
    try {
      res = await policy.request(url, { headers: { accept: 'image/*' }, signal: limits.signal });
    } catch (err) {
      throw describeFailure(err, `fetching the image at ${url.host}`);
    }
    const status = res.statusCode;
    if (status >= 300 && status < 400) {
      const location = header(res, 'location');
      await discard(res);
      if (!location) throw new ProviderError('redirect', `image redirect without a location`, status);
      current = new URL(location, url).toString();
      continue;
    }
    if (status < 200 || status >= 300) {
      await discard(res);
      throw new ProviderError('http', `fetching the image answered HTTP ${status}`, status);
    }
    const contentType = (header(res, 'content-type') ?? '').split(';')[0]!.trim();
    if (!/^image\/(png|jpeg|webp|gif|avif)$/.test(contentType)) {
      await discard(res);
      throw new ProviderError('malformed', `the URL is not a supported image (content-type ${contentType || 'missing'})`, status);
    }
    try {
      return { bytes: await readLimited(res, limits.maxBytes), contentType };
    } catch (err) {
      throw describeFailure(err, 'reading the image');
    }
  }
  throw new ProviderError('redirect', 'too many redirects fetching the image');
}
