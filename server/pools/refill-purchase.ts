import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { recordAlert } from '../alerts/alert-sink';
import type { SecretBox } from '../auth/secrets';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import type { Outbound } from '../net/outbound';
import { BillingError, HttpBilling, type Purchase } from './billing';
import { creditPool } from './credit-pool';
import { creditPools, creditPurchaseRequests } from './tables';
import { toRequestView, type RequestRow } from './request-view';
import { creditsText, usdText } from '../../shared/wording';

export type RefillDeps = { secrets: SecretBox; outbound: Outbound; billingTimeoutMs?: number };

/** Refill failures in a row after which a pool's automatic refills stop until an admin re-enables them. */
export const MAX_REFILL_FAILURES = 3;

/** The provider's idempotency key of a request: every attempt of one request sends the same. */
export const purchaseKey = (id: number) => `creditdesk-refill-${id}`;

// A request in these is still to be bought or settled with the provider.
const OPEN_STATUSES = sql`('approved', 'outcome_unknown')`;

/**
 * Buys one approved http refill, or settles one whose outcome is unknown. The claim
 * (processing_started_at) keeps two workers from calling billing for the same request; a claim
 * older than five minutes is taken over. An unknown outcome is first looked up at the provider
 * and, only if the provider has no such purchase, sent again under the same idempotency key (ADR 006).
 */
export async function processRefill(db: DbOrTx, deps: RefillDeps, id: number) {
  const [claimed] = await db
    .update(creditPurchaseRequests)
    .set({ processingStartedAt: sql`now()`, attempts: sql`${creditPurchaseRequests.attempts} + 1` })
    .where(
      sql`${creditPurchaseRequests.id} = ${id} and ${creditPurchaseRequests.status} in ${OPEN_STATUSES}
          and (${creditPurchaseRequests.processingStartedAt} is null or ${creditPurchaseRequests.processingStartedAt} < now() - interval '5 minutes')`,
    )
    .returning();
  if (!claimed) {
    const [r] = await db.select().from(creditPurchaseRequests).where(eq(creditPurchaseRequests.id, id));
    return toRequestView(r!);
  }
  const [pool] = await db.select().from(creditPools).where(eq(creditPools.provider, claimed.provider));
  const billing = new HttpBilling(deps.secrets, deps.outbound, deps.billingTimeoutMs);
  const key = purchaseKey(claimed.id);
  let bought: Purchase;
  try {
    const known = claimed.status === 'outcome_unknown' ? await billing.lookup(pool!, claimed.amountRequested, key) : null;
    bought = known ?? (await billing.purchase(pool!, claimed.amountRequested, key));
  } catch (err) {
    if (!(err instanceof BillingError)) throw err;
    return recordFailure(db, claimed, err);
  }
  return db.transaction(async (tx) => {
    const [r] = await tx
      .update(creditPurchaseRequests)
      .set({ status: 'completed', completedAt: sql`now()`, providerTransactionId: bought.transactionId, processingStartedAt: null })
      .where(sql`${creditPurchaseRequests.id} = ${id} and ${creditPurchaseRequests.status} in ${OPEN_STATUSES}`)
      .returning();
    if (!r) throw new Error(`purchase request ${id} changed while it was being bought`);
    await creditPool(tx, r.provider, r.amountRequested, { purchaseRequestId: r.id, actor: 'billing', reason: `provider transaction ${bought.transactionId}` });
    await tx.execute(sql`update credit_pools set refill_failures = 0, last_refill_error = null where provider = ${r.provider}`);
    await recordAlert(tx, refilledAlert(r));
    return toRequestView(r);
  });
}

export const refilledAlert = (r: RequestRow) => ({
  type: 'pool_refilled',
  level: 'info' as const,
  subject: r.provider,
  message: `Refilled the ${r.provider} pool with ${creditsText(r.amountRequested)} (${usdText(r.estimatedCost)}).`,
  metadata: { provider: r.provider, requestId: r.id, amount: r.amountRequested },
});

/**
 * A refused purchase fails its request (the provider did not sell; a later refill may buy anew).
 * An unknown outcome keeps the request open as outcome_unknown, still counted against the budget
 * and still blocking a second automatic refill. Either way the pool backs off exponentially
 * (backoff × 2^(failures − 1)); at MAX_REFILL_FAILURES in a row its auto-refill stops, with one error alert.
 */
async function recordFailure(db: DbOrTx, claimed: RequestRow, err: BillingError) {
  return db.transaction(async (tx) => {
    const [r] = await tx
      .update(creditPurchaseRequests)
      .set(
        err.outcome === 'refused'
          ? { status: 'failed', completedAt: sql`now()`, errorMessage: err.message, processingStartedAt: null }
          : { status: 'outcome_unknown', errorMessage: err.message, processingStartedAt: null },
      )
      // Only while the claim is still this attempt's: a request taken over (a claim older than five
      // minutes) and settled meanwhile is not reopened by the late failure, to be booked again.
      .where(
        sql`${creditPurchaseRequests.id} = ${claimed.id} and ${creditPurchaseRequests.status} in ${OPEN_STATUSES}
            and ${creditPurchaseRequests.attempts} = ${claimed.attempts}`,
      )
      .returning();
    if (!r) {
      const [now] = await tx.select().from(creditPurchaseRequests).where(eq(creditPurchaseRequests.id, claimed.id));
      return toRequestView(now!);
    }
    const pool = await queryOne(
      tx,
      z.object({ failures: col.integer, stopped_now: col.bool }),
      sql`update credit_pools p set
            refill_failures = p.refill_failures + 1,
            last_refill_error = ${err.message},
            refill_backoff_until = now() + make_interval(secs => s.refill_backoff_seconds * power(2, p.refill_failures)),
            auto_refill_stopped_at = case when p.refill_failures + 1 >= ${MAX_REFILL_FAILURES} then coalesce(p.auto_refill_stopped_at, now()) else p.auto_refill_stopped_at end
          from platform_settings s where s.id = 1 and p.provider = ${r.provider}
          returning p.refill_failures as failures, (p.auto_refill_stopped_at is not null and p.refill_failures = ${MAX_REFILL_FAILURES}) as stopped_now`,
    );
    const what = err.outcome === 'refused' ? 'failed' : 'has an unknown outcome (it will be checked with the provider, never bought again)';
    await recordAlert(tx, {
      type: 'pool_refill_failed',
      level: 'warning',
      subject: r.provider,
      message: `Refill ${r.id} of ${r.amountRequested} credits for ${r.provider} ${what}: ${err.message}`,
      metadata: { provider: r.provider, requestId: r.id, amount: r.amountRequested, outcome: err.outcome, failures: pool!.failures },
    });
    if (pool!.stopped_now) {
      await recordAlert(tx, {
        type: 'pool_auto_refill_stopped',
        level: 'error',
        subject: r.provider,
        message: `Auto-refill of the ${r.provider} pool stopped after ${MAX_REFILL_FAILURES} failed refills in a row. Last error: ${err.message}. Re-enable it on the Pools page once billing works.`,
        metadata: { provider: r.provider, requestId: r.id, lastError: err.message },
      });
    }
    return toRequestView(r);
  });
}

/**
 * Buys every due http refill for one pool or all (the auto-refill job, and the safety net for
 * lost kicks and crashed claims): approved or of unknown outcome, the pool past its backoff and
 * its auto-refill not stopped.
 */
export async function processApprovedRefills(db: DbOrTx, deps: RefillDeps, provider?: string): Promise<number> {
  const due = await db
    .select({ id: creditPurchaseRequests.id })
    .from(creditPurchaseRequests)
    .innerJoin(creditPools, eq(creditPools.provider, creditPurchaseRequests.provider))
    .where(
      sql`${creditPurchaseRequests.status} in ${OPEN_STATUSES} and ${creditPools.billingMode} = 'http'
          and ${creditPools.autoRefillStoppedAt} is null and (${creditPools.refillBackoffUntil} is null or ${creditPools.refillBackoffUntil} <= now())
          and (${creditPurchaseRequests.processingStartedAt} is null or ${creditPurchaseRequests.processingStartedAt} < now() - interval '5 minutes')
          ${provider ? sql`and ${creditPurchaseRequests.provider} = ${provider}` : sql``}`,
    )
    .orderBy(creditPurchaseRequests.id);
  for (const { id } of due) await processRefill(db, deps, id);
  return due.length;
}
