import { z } from 'zod';
import type { RequestInit, Response } from 'undici';
import type { SecretBox } from '../auth/secrets';
import { outboundRefusal, type Outbound } from '../net/outbound';

export type BillingPool = { provider: string; billingUrl: string | null; billingApiKeyEncrypted: string | null };

export class BillingError extends Error {}

const purchaseResponse = z.object({ transactionId: z.string().min(1).max(200), credits: z.number().int().positive() });
const balanceResponse = z.object({ balance: z.number().int().min(0) });

/**
 * The `http` billing adapter: our refill protocol against a provider's billing endpoint.
 * POST {url}/purchases { credits, idempotencyKey } → { transactionId, credits }; GET {url}/balance → { balance }.
 * The idempotency key is the purchase request's, so a retried call never buys twice.
 */
export class HttpBilling {
  constructor(
    private readonly secrets: SecretBox,
    private readonly outbound: Outbound,
    private readonly timeoutMs = 10_000,
  ) {}

  async purchase(pool: BillingPool, credits: number, idempotencyKey: string): Promise<{ transactionId: string; credits: number }> {
    const body = await this.call(pool, '/purchases', { method: 'POST', body: JSON.stringify({ credits, idempotencyKey }) });
    const parsed = purchaseResponse.safeParse(body);
    if (!parsed.success) throw new BillingError('billing endpoint answered an unexpected purchase body');
    if (parsed.data.credits !== credits) throw new BillingError(`billing endpoint sold ${parsed.data.credits} credits, ${credits} were asked`);
    return parsed.data;
  }

  async balance(pool: BillingPool): Promise<number> {
    const parsed = balanceResponse.safeParse(await this.call(pool, '/balance', { method: 'GET' }));
    if (!parsed.success) throw new BillingError('billing endpoint answered an unexpected balance body');
    return parsed.data.balance;
  }

  private async call(pool: BillingPool, path: string, init: RequestInit): Promise<unknown> {
    if (!pool.billingUrl) throw new BillingError(`pool ${pool.provider} has no billing URL`);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (pool.billingApiKeyEncrypted) headers.authorization = `Bearer ${this.secrets.decrypt(pool.billingApiKeyEncrypted)}`;
    let res: Response;
    try {
      res = await this.outbound.fetch(new URL(path.replace(/^\//, ''), pool.billingUrl.endsWith('/') ? pool.billingUrl : `${pool.billingUrl}/`), {
        ...init,
        headers,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const refused = outboundRefusal(err);
      if (refused) throw new BillingError(`billing endpoint refused: ${refused.message}`);
      const e = err as Error & { cause?: { code?: string } };
      throw new BillingError(e.name === 'TimeoutError' ? `billing endpoint timed out after ${this.timeoutMs} ms` : `billing endpoint unreachable: ${e.cause?.code ?? e.message}`);
    }
    // Purchase errors are shown to analysts: the status line only, never the remote body.
    if (!res.ok) {
      await res.body?.cancel();
      throw new BillingError(`billing endpoint answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new BillingError(`billing endpoint answered malformed JSON (HTTP ${res.status})`);
    }
  }
}
