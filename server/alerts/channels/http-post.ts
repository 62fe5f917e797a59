import type { Response } from 'undici';
import { outboundRefusal, type Outbound } from '../../net/outbound';
import { retryAfterMs } from '../../net/retry-after';
import { ChannelError } from './channel';

/**
 * POSTs JSON through the outbound client with a timeout; anything but a 2xx is a failure carrying
 * the status line (never the remote body: delivery errors are shown in the back office). The URL is
 * left out of every error message: for Slack the URL itself is the secret.
 */
export async function postJson(outbound: Outbound, url: string, body: unknown, opts: { timeoutMs: number; headers?: Record<string, string> }): Promise<void> {
  let res: Response;
  try {
    res = await outbound.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body: JSON.stringify(body),
      // A redirect could carry the payload somewhere nobody configured.
      redirect: 'error',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    const refused = outboundRefusal(err);
    if (refused) throw new ChannelError(`refused: ${refused.message}`);
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') throw new ChannelError(`no answer within ${opts.timeoutMs} ms`);
    throw new ChannelError(`unreachable: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
  }
  await res.body?.cancel().catch(() => {});
  if (!res.ok) {
    const waitMs = res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get('retry-after')) : null;
    const wait = waitMs === null ? null : Math.ceil(waitMs / 1000);
    throw new ChannelError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${wait !== null ? ` (retry after ${wait} s)` : ''}`, wait);
  }
}
