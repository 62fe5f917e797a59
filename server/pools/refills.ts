import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { recordAlert } from '../alerts/alert-sink';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { DomainError } from '../errors';
import { alertAwaitingApproval } from './auto-refill';
import { checkBudget, lockBudget } from './budget';
import { creditPool } from './credit-pool';
import { unknownPool } from './errors';
import { processRefill, refilledAlert, type RefillDeps } from './refill-purchase';
import { toRequestView } from './request-view';
import { creditPools, creditPurchaseRequests } from './tables';
import { usdText } from '../../shared/wording';

/**
 * An admin's refill (the Refill button). Within the month's budget the click is the approval:
 * a manual-billing pool is credited at once (the admin bought the credits), an http pool is bought
 * through its billing endpoint. Over budget it waits as pending_manual_approval.
 */
export async function requestManualRefill(db: DbOrTx, deps: RefillDeps, actor: Actor, input: { provider: string; amount: number; reason?: string }) {
  const created = await db.transaction(async (tx) => {
    await lockBudget(tx);
    const [pool] = await tx.select().from(creditPools).where(eq(creditPools.provider, input.provider)).for('update');
    if (!pool) throw unknownPool(input.provider);
    if (pool.status === 'suspended') throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The ${input.provider} pool is suspended: resume it before refilling.`);
    const cost = await queryOne(tx, z.object({ cost: col.decimal }), sql`select (${input.amount} * ${pool.costPerCredit}::numeric)::numeric(14,6)::text as cost`);
    const budget = await checkBudget(tx, cost!.cost);
    const [request] = await tx
      .insert(creditPurchaseRequests)
      .values({
        provider: input.provider,
        amountRequested: input.amount,
        estimatedCost: cost!.cost,
        status: budget.withinBudget ? 'approved' : 'pending_manual_approval',
        trigger: 'manual',
        note: budget.withinBudget ? (input.reason ?? null) : `exceeds the month's credit budget (spent ${usdText(budget.spentUsd)} of ${usdText(budget.budgetUsd)})`,
        requestedBy: actor.label,
        decidedBy: budget.withinBudget ? actor.label : null,
        decidedAt: budget.withinBudget ? new Date() : null,
      })
      .returning();
    await audit(tx, actor, { action: 'pool.refill.request', targetType: 'pool', targetId: input.provider, after: toRequestView(request!), reason: input.reason ?? null });
    if (!budget.withinBudget) await alertAwaitingApproval(tx, { provider: input.provider, amount: input.amount, id: request!.id, overBudget: request!.note });
    return { request: request!, billingMode: pool.billingMode };
  });
  if (created.request.status !== 'approved') return toRequestView(created.request);
  // Not in the transaction above: it holds the budget lock, which a draw takes after its stripes, and crediting locks the stripes.
  if (created.billingMode === 'manual') return db.transaction((tx) => completeManual(tx, created.request.id, actor.label));
  return processRefill(db, deps, created.request.id);
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
    // A manual pool is credited in the approval's own transaction: an approval that fails to credit
    // it rolls back and waits to be approved again, instead of staying approved with nothing credited.
    if (pool!.billingMode === 'manual') return { id: r.id, completed: await completeManual(tx, r.id, actor.label) };
    return { id: r.id, completed: null };
  });
  return approved.completed ?? processRefill(db, deps, approved.id);
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
  const [r] = await db
    .select()
    .from(creditPurchaseRequests)
    .where(eq(creditPurchaseRequests.id, Number(id)));
  if (!r) return new DomainError('NOT_FOUND', 'NOT_FOUND', `No purchase request ${id}.`);
  return new DomainError('CONFLICT', 'CONFLICT', `Purchase request ${id} is already ${r.status.replaceAll('_', ' ')}.`);
}

/**
 * Completes an approved request of a manual pool (the admin bought the credits) inside the
 * approval's transaction: the pool is credited with the approval or not at all. An http pool's
 * approved request is bought through its adapter after the approval commits (processRefill).
 */
async function completeManual(tx: DbOrTx, id: number, actorLabel: string) {
  const [r] = await tx
    .update(creditPurchaseRequests)
    .set({ status: 'completed', completedAt: sql`now()` })
    .where(sql`${creditPurchaseRequests.id} = ${id} and ${creditPurchaseRequests.status} = 'approved'`)
    .returning();
  if (!r) throw await notPending(tx, String(id));
  await creditPool(tx, r.provider, r.amountRequested, { purchaseRequestId: r.id, actor: actorLabel, reason: 'refill' });
  await recordAlert(tx, refilledAlert(r));
  return toRequestView(r);
}
