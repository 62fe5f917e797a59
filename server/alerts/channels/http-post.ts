import { ChannelError } from './channel';

/**
 * POSTs JSON with a timeout; anything but a 2xx is a failure carrying the status. The URL is left
 * out of every error message: for Slack the URL itself is the secret.
 */
export async function postJson(url: string, body: unknown, opts: { timeoutMs: number; headers?: Record<string, string> }): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body: JSON.stringify(body),
      // A redirect could carry the payload somewhere nobody configured.
      redirect: 'error',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') throw new ChannelError(`no answer within ${opts.timeoutMs} ms`);
    throw new ChannelError(`unreachable: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
  }
  const text = await res.text().catch((err: Error) => `(body unreadable: ${err.message})`);
  if (!res.ok) throw new ChannelError(`HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
}
