import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { CaptureInput, TransactionView } from '../../shared/credits';
import type { DbOrTx } from '../db/client';
import { col, queryOne, queryRows } from '../db/rows';
import { isoUtc } from '../db/sql-helpers';
import { creditsConsumed } from '../ops/metrics';
import { drawForCapture } from '../pools/capture-draw';
import { ownerCondition, refusal, type HoldOwner } from './reservation-refusal';
import { toTransactionView } from './views';

export type ProviderDraw = (db: DbOrTx, provider: string, credits: number, reservationId: string) => Promise<{ costUsd: string }>;
/** A capture's provider leg: drawn now (by the pools domain, by default), or drawn already before the provider call, at this cost. */
export type ProviderLeg = ProviderDraw | { drawn: { costUsd: string } };

const captureRow = z.object({
  id: col.integer,
  user_id: col.text,
  credits_used: col.integer,
  balance_after: col.integer,
  source: col.textOrNull,
  tier: col.textOrNull,
  cost_usd: col.decimalOrNull,
  provider: col.textOrNull,
  enhancement_type: col.textOrNull,
  moodboard_id: col.textOrNull,
  reservation_id: col.text,
  created_at: col.text,
});

/**
 * The capture's two data-modifying CTEs, `claimed` and `done`: the hold claimed (pending, unexpired,
 * the owner's, and `also`) with its cost and the id of its capture entry taken from the ledger's
 * sequence, and that entry written with the user's balance. Shared by the capture's own statement and
 * the served enhancement's settlement (server/providers/settle-served.ts), so the two cannot drift.
 */
export const captureCtes = (input: CaptureInput & HoldOwner, costUsd: string, also: SQL = sql`true`) => sql`
    claimed as (
      update credit_reservations set status = 'captured', settled_at = now(), provider = ${input.provider ?? null},
        api_request_id = ${input.apiRequestId ?? null}, cost_usd = ${costUsd}::numeric,
        capture_transaction_id = nextval(pg_get_serial_sequence('credit_transactions', 'id'))
      where id = ${input.reservationId} and status = 'pending' and expires_at > now() and ${ownerCondition(input)} and ${also}
      returning *
    ), done as (
      insert into credit_transactions (id, user_id, transaction_type, credits_used, credits_delta, balance_after, source, tier, cost_usd,
        provider, api_request_id, enhancement_type, moodboard_id, reservation_id)
      select c.capture_transaction_id, c.user_id, 'capture', c.credits, 0,
        (select uc.current_balance + uc.bonus_balance from user_credits uc where uc.user_id = c.user_id),
        c.source, c.tier, c.cost_usd, c.provider, c.api_request_id, c.enhancement_type, c.moodboard_id, c.id
      from claimed c
      returning *
    )`;

/** The one-statement capture (below), exported so the HTTP benchmark's floor runs this very statement. */
export const captureStatementSql = (input: CaptureInput & HoldOwner, costUsd: string) =>
  sql`
    with ${captureCtes(input, costUsd)}
    select id::text, user_id, credits_used, balance_after, source, tier, cost_usd::text, provider, enhancement_type, moodboard_id,
      reservation_id, ${isoUtc(sql`created_at`)} as created_at
    from done`;

/**
 * The capture itself, one statement: the hold claimed (pending, unexpired, the owner's) with its cost
 * and the id of its capture entry taken from the ledger's sequence, and that entry written with the
 * user's balance. No row: the hold was not claimable.
 */
async function captureInOneStatement(db: DbOrTx, input: CaptureInput & HoldOwner, costUsd: string): Promise<{ view: TransactionView; tier: string | null } | null> {
  const row = await queryOne(db, captureRow, captureStatementSql(input, costUsd));
  if (!row) return null;
  const view = toTransactionView({
    id: row.id,
    userId: row.user_id,
    transactionType: 'capture',
    creditsUsed: row.credits_used,
    creditsDelta: 0,
    bonusCredits: 0,
    balanceAfter: row.balance_after,
    source: row.source,
    tier: row.tier,
    costUsd: row.cost_usd,
    provider: row.provider,
    apiRequestId: input.apiRequestId ?? null,
    enhancementType: row.enhancement_type,
    moodboardId: row.moodboard_id,
    status: 'completed',
    errorMessage: null,
    reservationId: row.reservation_id,
    idempotencyKey: null,
    requestHash: null,
    refundOf: null,
    grantDraws: null,
    reason: null,
    actor: null,
    createdAt: new Date(row.created_at),
  });
  return { view, tier: row.tier };
}

/**
 * Settles a pending, unexpired hold into a completed transaction. With a `provider` and a drawer, the
 * drawer (the pools domain by default) takes that provider's credits and names the cost, under the
 * hold's row lock in one transaction; with the leg drawn already (the gateway draws before the
 * call), or no provider (`costUsd` as given), the capture is one statement.
 */
export async function captureReservation(db: DbOrTx, input: CaptureInput & HoldOwner, providerLeg: ProviderLeg = drawForCapture): Promise<TransactionView> {
  const drawNow = input.provider && typeof providerLeg === 'function' ? providerLeg : null;
  const captured = drawNow
    ? await db.transaction(async (tx) => {
        // Locked first, so that a hold that cannot be captured draws nothing.
        const [r] = await queryRows(
          tx,
          z.object({ id: col.text, credits: col.integer }),
          sql`select id, credits from credit_reservations
              where id = ${input.reservationId} and status = 'pending' and expires_at > now() and ${ownerCondition(input)}
              for update`,
        );
        if (!r) return null;
        const drawn = await drawNow(tx, input.provider!, r.credits, r.id);
        return captureInOneStatement(tx, input, drawn.costUsd);
      })
    : await captureInOneStatement(db, input, typeof providerLeg === 'function' ? (input.costUsd ?? '0') : providerLeg.drawn.costUsd);
  if (!captured) return refusal(db, input.reservationId, input, input);
  creditsConsumed.inc({ source: captured.view.source ?? 'user_credits', tier: captured.tier ?? 'unknown' }, captured.view.creditsUsed);
  return captured.view;
}
