import { eq, sql } from 'drizzle-orm';
import { recordAlert } from '../alerts/alert-sink';
import { audit, type Actor } from '../auth/audit';
import type { SecretBox } from '../auth/secrets';
import type { DbOrTx } from '../db/client';
import type { Outbound } from '../net/outbound';
import { queryOne } from '../db/rows';
import { DomainError } from '../errors';
import { BillingError, HttpBilling } from './billing';
import { checkBudget } from './budget';
import { creditPool } from './credit-pool';
import { unknownPool } from './errors';
import { creditPools, creditPurchaseRequests } from './tables';

export type RefillDeps = { secrets: SecretBox; outbound: Outbound; billingTimeoutMs?: number };

type RequestRow = typeof creditPurchaseRequests.$inferSelect;

export const toRequestView = (r: RequestRow) => ({
  id: String(r.id),
  provider: r.provider,
  amountRequested: r.amountRequested,
  estimatedCost: r.estimatedCost,
  status: r.status as 'pending_manual_approval' | 'approved' | 'rejected' | 'completed' | 'failed',
  trigger: r.trigger,
  note: r.note,
  requestedBy: r.requestedBy,
  requestedAt: r.requestedAt.toISOString(),
  decidedBy: r.decidedBy,
  decidedAt: r.decidedAt?.toISOString() ?? null,
  decisionReason: r.decisionReason,
  completedAt: r.completedAt?.toISOString() ?? null,
  providerTransactionId: r.providerTransactionId,
  errorMessage: r.errorMessage,
});

/**
 * An admin's refill (the Refill button). Within the month's budget the click is the approval:
 * a manual-billing pool is credited at once (the admin bought the credits), an http pool is bought
 * through its billing endpoint. Over budget it waits as pending_manual_approval.
 */
export async function requestManualRefill(db: DbOrTx, deps: RefillDeps, actor: Actor, input: { provider: string; amount: number; reason?: string }) {
  const created = await db.transaction(async (tx) => {
    const [pool] = await tx.select().from(creditPools).where(eq(creditPools.provider, input.provider)).for('update');
    if (!pool) throw unknownPool(input.provider);
    if (pool.status === 'suspended') throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The ${input.provider} pool is suspended: resume it before refilling.`);
    const cost = await queryOne<{ cost: string }>(tx, sql`select (${input.amount} * ${pool.costPerCredit}::numeric)::numeric(14,6)::text as cost`);
    const budget = await checkBudget(tx, cost!.cost);
    const [request] = await tx
      .insert(creditPurchaseRequests)
      .values({
        provider: input.provider,
        amountRequested: input.amount,
        estimatedCost: cost!.cost,
        status: budget.withinBudget ? 'approved' : 'pending_manual_approval',
        trigger: 'manual',
        note: budget.withinBudget ? (input.reason ?? null) : `exceeds the month's credit budget (spent ${budget.spentUsd} of ${budget.budgetUsd} USD)`,
        requestedBy: actor.label,
        decidedBy: budget.withinBudget ? actor.label : null,
        decidedAt: budget.withinBudget ? new Date() : null,
      })
      .returning();
    await audit(tx, actor, { action: 'pool.refill.request', targetType: 'pool', targetId: input.provider, after: toRequestView(request!), reason: input.reason ?? null });
    return { request: request!, billingMode: pool.billingMode };
  });
  if (created.request.status !== 'approved') return toRequestView(created.request);
  return fulfil(db, deps, created.request.id, created.billingMode, actor.label);
}

/** Approves a request waiting for an admin; a request is decided once. */
export async function approveRequest(db: DbOrTx, deps: RefillDeps, actor: Actor, input: { id: string; reason: string }) {
  const approved = await db.transaction(async (tx) => {
    const [r] = await tx
      .update(creditPurchaseRequests)
      .set({ status: 'approved', decidedBy: actor.label, decidedAt: sql`now()`, decisionReason: input.reason })
      .where(sql`${creditPurchaseRequests.id} = ${Number(input.id)} and ${creditPurchaseRequests.status} = 'pending_manual_approval'`)
      .returning();
    if (!r) throw await notPending(tx, input.id);
    const [pool] = await tx.select().from(creditPools).where(eq(creditPools.provider, r.provider));
    if (pool!.status === 'suspended') throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The ${r.provider} pool is suspended: resume it first.`);
    await audit(tx, actor, { action: 'pool.refill.approve', targetType: 'purchase_request', targetId: input.id, after: toRequestView(r), reason: input.reason });
    return { r, billingMode: pool!.billingMode };
  });
  return fulfil(db, deps, approved.r.id, approved.billingMode, actor.label);
}

export async function rejectRequest(db: DbOrTx, actor: Actor, input: { id: string; reason: string }) {
  return db.transaction(async (tx) => {
    const [r] = await tx
      .update(creditPurchaseRequests)
      .set({ status: 'rejected', decidedBy: actor.label, decidedAt: sql`now()`, decisionReason: input.reason })
      .where(sql`${creditPurchaseRequests.id} = ${Number(input.id)} and ${creditPurchaseRequests.status} = 'pending_manual_approval'`)
      .returning();
    if (!r) throw await notPending(tx, input.id);
    await audit(tx, actor, { action: 'pool.refill.reject', targetType: 'purchase_request', targetId: input.id, after: toRequestView(r), reason: input.reason });
    return toRequestView(r);
  });
}

async function notPending(db: DbOrTx, id: string) {
  const [r] = await db.select().from(creditPurchaseRequests).where(eq(creditPurchaseRequests.id, Number(id)));
  if (!r) return new DomainError('NOT_FOUND', 'NOT_FOUND', `No purchase request ${id}.`);
  return new DomainError('CONFLICT', 'CONFLICT', `Purchase request ${id} is already ${r.status.replaceAll('_', ' ')}.`);
}

/** Carries out an approved request: credit a manual pool now, or buy through the http adapter. */
async function fulfil(db: DbOrTx, deps: RefillDeps, id: number, billingMode: string, actorLabel: string) {
  if (billingMode === 'manual') {
    return db.transaction(async (tx) => {
      const [r] = await tx
        .update(creditPurchaseRequests)
        .set({ status: 'completed', completedAt: sql`now()` })
        .where(sql`${creditPurchaseRequests.id} = ${id} and ${creditPurchaseRequests.status} = 'approved'`)
        .returning();
      if (!r) throw await notPending(tx, String(id));
      await creditPool(tx, r.provider, r.amountRequested, { purchaseRequestId: r.id, actor: actorLabel, reason: 'refill' });
      await recordAlert(tx, refillAlert(r, 'info'));
      return toRequestView(r);
    });
  }
  return processRefill(db, deps, id);
}

const refillAlert = (r: RequestRow, level: 'info' | 'error') => ({
  type: level === 'info' ? 'pool_refilled' : 'pool_refill_failed',
  level,
  subject: r.provider,
  message:
    level === 'info'
      ? `Refilled the ${r.provider} pool with ${r.amountRequested} credits (${r.estimatedCost} USD).`
      : `Refill of ${r.amountRequested} credits for ${r.provider} failed: ${r.errorMessage}`,
  metadata: { provider: r.provider, requestId: r.id, amount: r.amountRequested },
});

/**
 * Buys one approved http refill. The claim (processing_started_at) keeps two workers from buying
 * the same request; a claim older than five minutes is taken over, and the billing idempotency key
 * keeps that retry from buying twice. Failure marks the request failed, backs the pool off, alerts.
 */
export async function processRefill(db: DbOrTx, deps: RefillDeps, id: number) {
  const [claimed] = await db
    .update(creditPurchaseRequests)
    .set({ processingStartedAt: sql`now()` })
    .where(
      sql`${creditPurchaseRequests.id} = ${id} and ${creditPurchaseRequests.status} = 'approved'
          and (${creditPurchaseRequests.processingStartedAt} is null or ${creditPurchaseRequests.processingStartedAt} < now() - interval '5 minutes')`,
    )
    .returning();
  if (!claimed) {
    const [r] = await db.select().from(creditPurchaseRequests).where(eq(creditPurchaseRequests.id, id));
    return toRequestView(r!);
  }
  const [pool] = await db.select().from(creditPools).where(eq(creditPools.provider, claimed.provider));
  const billing = new HttpBilling(deps.secrets, deps.outbound, deps.billingTimeoutMs);
  try {
    const bought = await billing.purchase(pool!, claimed.amountRequested, `creditdesk-refill-${claimed.id}`);
    return await db.transaction(async (tx) => {
      const [r] = await tx
        .update(creditPurchaseRequests)
        .set({ status: 'completed', completedAt: sql`now()`, providerTransactionId: bought.transactionId })
        .where(sql`${creditPurchaseRequests.id} = ${id} and ${creditPurchaseRequests.status} = 'approved'`)
        .returning();
      if (!r) throw new Error(`purchase request ${id} changed while it was being bought`);
      await creditPool(tx, r.provider, r.amountRequested, { purchaseRequestId: r.id, actor: 'billing', reason: `provider transaction ${bought.transactionId}` });
      await recordAlert(tx, refillAlert(r, 'info'));
      return toRequestView(r);
    });
  } catch (err) {
    if (!(err instanceof BillingError)) throw err;
    return db.transaction(async (tx) => {
      const [r] = await tx
        .update(creditPurchaseRequests)
        .set({ status: 'failed', completedAt: sql`now()`, errorMessage: err.message })
        .where(eq(creditPurchaseRequests.id, id))
        .returning();
      await tx.execute(sql`
        update credit_pools set refill_backoff_until = now() + make_interval(secs => (select refill_backoff_seconds from platform_settings where id = 1))
        where provider = ${r!.provider}`);
      await recordAlert(tx, refillAlert(r!, 'error'));
      return toRequestView(r!);
    });
  }
}

/** Buys every approved http refill (the auto-refill job, and a safety net for crashed claims). */
export async function processApprovedRefills(db: DbOrTx, deps: RefillDeps): Promise<number> {
  const due = await db
    .select({ id: creditPurchaseRequests.id })
    .from(creditPurchaseRequests)
    .innerJoin(creditPools, eq(creditPools.provider, creditPurchaseRequests.provider))
    .where(
      sql`${creditPurchaseRequests.status} = 'approved' and ${creditPools.billingMode} = 'http'
          and (${creditPurchaseRequests.processingStartedAt} is null or ${creditPurchaseRequests.processingStartedAt} < now() - interval '5 minutes')`,
    );
  for (const { id } of due) await processRefill(db, deps, id);
  return due.length;
}
