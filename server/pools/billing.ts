import { z } from 'zod';
import type { RequestInit } from 'undici';
import type { SecretBox } from '../auth/secrets';
import { outboundRefusal, type Outbound } from '../net/outbound';

export type BillingPool = { provider: string; billingUrl: string | null; billingApiKeyEncrypted: string | null };

/**
 * `refused`: the provider did not sell (it said no, or the request never left us), so a new
 * purchase is safe. `unknown`: it may have sold (timeout, reset, 5xx, an unreadable answer), so
 * only the same idempotency key or the provider's own record may settle it (ADR 006).
 */
export type BillingOutcome = 'refused' | 'unknown';

/** A failed billing call. The message is a status line of ours, never the remote body. */
export class BillingError extends Error {
  constructor(
    message: string,
    readonly outcome: BillingOutcome,
  ) {
    super(message);
  }
}

export type Purchase = { transactionId: string; credits: number };

const purchaseResponse = z.object({ transactionId: z.string().min(1).max(200), credits: z.number().int().positive() });
const balanceResponse = z.object({ balance: z.number().int().min(0) });

// Errors raised before a byte of the request reached the provider: nothing can have been bought.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);

/**
 * The `http` billing adapter: our refill protocol against a provider's billing endpoint.
 * POST {url}/purchases { credits, idempotencyKey } → { transactionId, credits };
 * GET {url}/purchases/{idempotencyKey} → { transactionId, credits } or 404 (no such purchase);
 * GET {url}/balance → { balance }. A retried purchase reuses its idempotency key, so it never buys twice.
 */
export class HttpBilling {
  constructor(
    private readonly secrets: SecretBox,
    private readonly outbound: Outbound,
    private readonly timeoutMs = 10_000,
  ) {}

  async purchase(pool: BillingPool, credits: number, idempotencyKey: string): Promise<Purchase> {
    const res = await this.call(pool, '/purchases', { method: 'POST', body: JSON.stringify({ credits, idempotencyKey }) });
    if (!res.ok) throw new BillingError(`billing endpoint answered ${res.statusLine}`, refusedStatus(res.status) ? 'refused' : 'unknown');
    return this.sold(res, credits);
  }

  /** The provider's record of a purchase: what it sold under this key, or null when it has none. */
  async lookup(pool: BillingPool, credits: number, idempotencyKey: string): Promise<Purchase | null> {
    const res = await this.call(pool, `/purchases/${encodeURIComponent(idempotencyKey)}`, { method: 'GET' });
    if (res.status === 404) return null;
    // Any other refusal of the lookup tells us nothing about the purchase itself.
    if (!res.ok) throw new BillingError(`billing status lookup answered ${res.statusLine}`, 'unknown');
    return this.sold(res, credits);
  }

  async balance(pool: BillingPool): Promise<number> {
    const res = await this.call(pool, '/balance', { method: 'GET' });
    if (!res.ok) throw new BillingError(`billing endpoint answered ${res.statusLine}`, 'unknown');
    const parsed = balanceResponse.safeParse(parseJson(res.text));
    if (!parsed.success) throw new BillingError(`billing endpoint answered ${res.statusLine} with an unexpected balance body`, 'unknown');
    return parsed.data.balance;
  }

  /** A 2xx that does not read as exactly the purchase asked for may still be a sale: unknown. */
  private sold(res: BillingResponse, credits: number): Purchase {
    const parsed = purchaseResponse.safeParse(parseJson(res.text));
    if (!parsed.success) throw new BillingError(`billing endpoint answered ${res.statusLine} with an unexpected body`, 'unknown');
    if (parsed.data.credits !== credits) throw new BillingError(`billing endpoint sold ${parsed.data.credits} credits, ${credits} were asked`, 'unknown');
    return parsed.data;
  }

  private async call(pool: BillingPool, path: string, init: RequestInit): Promise<BillingResponse> {
    if (!pool.billingUrl) throw new BillingError(`pool ${pool.provider} has no billing URL`, 'refused');
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (pool.billingApiKeyEncrypted) headers.authorization = `Bearer ${this.secrets.decrypt(pool.billingApiKeyEncrypted)}`;
    try {
      const res = await this.outbound.fetch(new URL(path.replace(/^\//, ''), pool.billingUrl.endsWith('/') ? pool.billingUrl : `${pool.billingUrl}/`), {
        ...init,
        headers,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return { ok: res.ok, status: res.status, statusLine: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, text: await res.text() };
    } catch (err) {
      throw transportError(err, this.timeoutMs);
    }
  }
}

type BillingResponse = { ok: boolean; status: number; statusLine: string; text: string };

/** 4xx means the provider refused the request; 408 and 409 may follow a sale (a slow or repeated request). */
const refusedStatus = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 409;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function transportError(err: unknown, timeoutMs: number): BillingError {
  // Refused by the address policy before connecting: nothing left us.
  const refused = outboundRefusal(err);
  if (refused) return new BillingError(`billing endpoint refused: ${refused.message}`, 'refused');
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError') return new BillingError(`billing endpoint timed out after ${timeoutMs} ms`, 'unknown');
  const code = e.cause?.code ?? (e as { code?: string }).code;
  if (code && NOT_SENT.has(code)) return new BillingError(`billing endpoint unreachable (${code})`, 'refused');
  return new BillingError(`billing connection failed${code ? ` (${code})` : ''}`, 'unknown');
}
