import { creditsConsumed } from '../ops/metrics';
import { eq, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import { creditSourceSchema, type CaptureInput, type ReserveInput, type ReserveResult, type TransactionView } from '../../shared/credits';
import type { DbOrTx } from '../db/client';
import { pgErrorCode, UNIQUE_VIOLATION } from '../db/errors';
import { z } from 'zod';
import { col, queryOne, queryRows } from '../db/rows';
import { isoUtc } from '../db/sql-helpers';
import { DomainError } from '../errors';
import { drawForCapture } from '../pools/capture-draw';
import { chargeCtes } from './charge-sql';
import { chargeShapesFor, compileEachShape, noteChargeSource, type ChargeShape } from './charge-shapes';
import { creditBack, debitUser, type OverflowGate } from './debit';
import { idempotencyConflict, ReplayDetected } from './errors';
import { requestHash } from './request-hash';
import { creditReservations, creditTransactions } from './tables';
import { lockCredits } from './user-credits';
import { toReservationView, toTransactionView } from './views';

export const DEFAULT_HOLD_SECONDS = 300;

type ReservationRow = typeof creditReservations.$inferSelect;

const unknownReservation = () => new DomainError('NOT_FOUND', 'UNKNOWN_RESERVATION', 'No reservation with that id.');
const expired = () => new DomainError('PRECONDITION_FAILED', 'RESERVATION_EXPIRED', 'The reservation expired before it was captured; its credits were returned.');
const notPending = (status: string) => new DomainError('CONFLICT', 'RESERVATION_NOT_PENDING', `The reservation is already ${status}.`);

/**
 * Who settles a hold: `apiKeyId` given, only a hold that key made (another's is NOT_FOUND, as if it
 * did not exist); omitted, any hold (the server's own callers).
 */
export type HoldOwner = { apiKeyId?: string };

async function priorReserve(db: DbOrTx, key: string, hash: string, apiKeyId: string | null): Promise<ReserveResult | null> {
  const [prior] = await db.select().from(creditReservations).where(eq(creditReservations.idempotencyKey, key));
  if (!prior) return null;
  // Another key's idempotency key does not reveal that key's hold.
  if (prior.requestHash !== hash || prior.apiKeyId !== apiKeyId) throw idempotencyConflict();
  return { reservationId: prior.id, source: prior.source as ReserveResult['source'], expiresAt: prior.expiresAt.toISOString() };
}

type HoldRequest = ReserveInput & { apiKeyId?: string | null };

/** What the one-statement hold binds: every value of the statement is one of these. */
const holdSlots = {
  userId: 'text',
  credits: 'int',
  ttl: 'int',
  idempotencyKey: 'text',
  hash: 'text',
  enhancementType: 'text',
  moodboardId: 'text?',
  apiKeyId: 'text?',
} as const;
type HoldStatementInput = { userId: string; credits: number; idempotencyKey: string; enhancementType: string; moodboardId?: string | null; apiKeyId?: string | null };

/** The one-statement hold (below), exported so the HTTP benchmark's floor runs this very statement. */
export function holdStatementSql(input: HoldStatementInput, ttl: number, hash: string, shape: ChargeShape) {
  return sql`
    with ${chargeCtes(input.userId, input.credits, shape)}
    , hold as (
      insert into credit_reservations (user_id, credits, bonus_credits, source, tier, expires_at, idempotency_key, request_hash,
        enhancement_type, moodboard_id, api_key_id)
      select ${input.userId}, ${input.credits}, bonus_used, source, tier, now() + make_interval(secs => ${ttl}), ${input.idempotencyKey}, ${hash},
        ${input.enhancementType}, ${input.moodboardId ?? null}, ${input.apiKeyId ?? null}
      from charged
      returning id, expires_at, source
    ), entry as (
      insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, balance_after, source, tier,
        enhancement_type, moodboard_id, reservation_id, status)
      select ${input.userId}, 'hold', ${input.credits}, case when charged.source = 'user_credits' then -${input.credits}::int else 0 end,
        charged.bonus_used, charged.balance_after, charged.source, charged.tier,
        ${input.enhancementType}, ${input.moodboardId ?? null}, hold.id, 'pending'
      from charged, hold
    )
    select hold.id, hold.source, ${isoUtc(sql`hold.expires_at`)} as expires_at from hold`;
}

const holdStatements = compileEachShape(holdSlots, (v, shape) => holdStatementSql(v, v.ttl, v.hash, shape));

const heldRow = z.object({ id: col.text, source: creditSourceSchema, expires_at: col.text });

/**
 * A hold in one statement (one round trip, atomic without an explicit transaction): the charge
 * (chargeCtes: the allowance, or with `overflow` the platform's own overflow rule) and, from its row,
 * the reservation and its `hold` entry, as data-modifying CTEs. No row means the charge did not
 * apply; a taken idempotency key fails the whole statement, charge included — a replay.
 */
async function holdInOneStatement(db: DbOrTx, input: HoldRequest, ttl: number, hash: string, shape: ChargeShape): Promise<ReserveResult | null> {
  const { userId, credits, idempotencyKey, enhancementType } = input;
  const statement = holdStatements[shape]({ userId, credits, ttl, idempotencyKey, hash, enhancementType, moodboardId: input.moodboardId ?? null, apiKeyId: input.apiKeyId ?? null });
  const row = await queryOne(db, heldRow, statement);
  if (!row) return null;
  noteChargeSource(input.userId, row.source);
  return { reservationId: row.id, source: row.source, expiresAt: row.expires_at };
}

/**
 * Takes the credits at once into a hold that capture settles, release returns, or expiry returns.
 * Its common cases (from the allowance; an overflow the platform's own rule allows) are one
 * statement each; a first-seen user, a due reset, a refusal or a caller's own gate take the
 * transaction with the row lock.
 */
export async function reserveCredits(db: DbOrTx, input: HoldRequest, overflowGate?: OverflowGate): Promise<ReserveResult> {
  const ttl = input.ttlSeconds ?? DEFAULT_HOLD_SECONDS;
  const hash = requestHash('reserve', {
    userId: input.userId,
    credits: input.credits,
    enhancementType: input.enhancementType,
    moodboardId: input.moodboardId,
    ttlSeconds: ttl,
  });
  try {
    // Inside a caller's transaction a unique violation would abort that transaction: the savepoint way.
    if (!(db instanceof PgTransaction)) {
      // A caller's own gate decides an overflow on the slow path.
      for (const shape of chargeShapesFor(input.userId, !overflowGate)) {
        const fast = await holdInOneStatement(db, input, ttl, hash, shape);
        if (fast) return fast;
      }
    }
    return await db.transaction(async (tx) => {
      const debit = await debitUser(tx, input.userId, input.credits, overflowGate);
      const [hold] = await tx
        .insert(creditReservations)
        .values({
          userId: input.userId,
          credits: input.credits,
          bonusCredits: debit.bonusUsed,
          grantDraws: debit.grantDraws.length ? debit.grantDraws : null,
          source: debit.source,
          tier: debit.tier,
          expiresAt: sql`now() + make_interval(secs => ${ttl})`,
          idempotencyKey: input.idempotencyKey,
          requestHash: hash,
          enhancementType: input.enhancementType,
          moodboardId: input.moodboardId ?? null,
          apiKeyId: input.apiKeyId ?? null,
        })
        .onConflictDoNothing({ target: creditReservations.idempotencyKey })
        .returning();
      if (!hold) throw new ReplayDetected();
      await tx.insert(creditTransactions).values({
        userId: input.userId,
        transactionType: 'hold',
        creditsUsed: input.credits,
        creditsDelta: debit.source === 'user_credits' ? -input.credits : 0,
        bonusCredits: debit.bonusUsed,
        grantDraws: debit.grantDraws.length ? debit.grantDraws : null,
        balanceAfter: debit.balanceAfter,
        source: debit.source,
        tier: debit.tier,
        enhancementType: input.enhancementType,
        moodboardId: input.moodboardId ?? null,
        reservationId: hold.id,
        status: 'pending',
      });
      return { reservationId: hold.id, source: debit.source, expiresAt: hold.expiresAt.toISOString() };
    });
  } catch (err) {
    // A replay whose first run already spent the balance is refused by the debit: the key decides.
    if (err instanceof ReplayDetected || err instanceof DomainError || pgErrorCode(err) === UNIQUE_VIOLATION) {
      const prior = await priorReserve(db, input.idempotencyKey, hash, input.apiKeyId ?? null);
      if (prior) return prior;
    }
    throw err;
  }
}

/** Explains why a reservation could not be settled: gone, already settled, or expired. */
async function refusal(db: DbOrTx, reservationId: string, owner: HoldOwner, captureRetry?: CaptureInput): Promise<TransactionView> {
  const [r] = await db.select().from(creditReservations).where(eq(creditReservations.id, reservationId));
  if (!r || !ownedBy(r, owner)) throw unknownReservation();
  if (r.status === 'captured' && captureRetry && r.captureTransactionId !== null) {
    // A retried capture returns the transaction the first one completed.
    const [done] = await db.select().from(creditTransactions).where(eq(creditTransactions.id, r.captureTransactionId));
    return toTransactionView(done!);
  }
  if (r.status === 'expired' || (r.status === 'pending' && r.expiresAt <= new Date())) throw expired();
  throw notPending(r.status);
}

const ownedBy = (r: ReservationRow, owner: HoldOwner) => owner.apiKeyId === undefined || r.apiKeyId === owner.apiKeyId;
const ownerCondition = (owner: HoldOwner) => (owner.apiKeyId === undefined ? sql`true` : sql`${creditReservations.apiKeyId} = ${owner.apiKeyId}`);

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

/** The one-statement capture (below), exported so the HTTP benchmark's floor runs this very statement. */
export const captureStatementSql = (input: CaptureInput & HoldOwner, costUsd: string) =>
  sql`
    with claimed as (
      update credit_reservations set status = 'captured', settled_at = now(), provider = ${input.provider ?? null},
        api_request_id = ${input.apiRequestId ?? null}, cost_usd = ${costUsd}::numeric,
        capture_transaction_id = nextval(pg_get_serial_sequence('credit_transactions', 'id'))
      where id = ${input.reservationId} and status = 'pending' and expires_at > now() and ${ownerCondition(input)}
      returning *
    ), done as (
      insert into credit_transactions (id, user_id, transaction_type, credits_used, credits_delta, balance_after, source, tier, cost_usd,
        provider, api_request_id, enhancement_type, moodboard_id, reservation_id)
      select c.capture_transaction_id, c.user_id, 'capture', c.credits, 0,
        (select uc.current_balance + uc.bonus_balance from user_credits uc where uc.user_id = c.user_id),
        c.source, c.tier, c.cost_usd, c.provider, c.api_request_id, c.enhancement_type, c.moodboard_id, c.id
      from claimed c
      returning *
    )
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

/** Returns a pending hold's credits with a `release` entry (the refund). */
export async function releaseReservation(db: DbOrTx, input: { reservationId: string; reason?: string } & HoldOwner) {
  const released = await db.transaction(async (tx) => {
    const [r] = await tx
      .update(creditReservations)
      .set({ status: 'released', settledAt: sql`now()`, releaseReason: input.reason ?? null })
      .where(sql`${creditReservations.id} = ${input.reservationId} and ${creditReservations.status} = 'pending' and ${ownerCondition(input)}`)
      .returning();
    if (!r) return null;
    await returnHold(tx, r, input.reason ?? 'released');
    return toReservationView(r);
  });
  if (released) return released;
  await refusal(db, input.reservationId, input);
  throw notPending('settled');
}

/** The refund half of a release or an expiry: credits back to the user and their grants, and a `release` entry. */
async function returnHold(tx: DbOrTx, r: ReservationRow, reason: string): Promise<void> {
  const source = r.source as 'user_credits' | 'platform_pool';
  await lockCredits(tx, r.userId);
  const back = await creditBack(tx, r.userId, { source, credits: r.credits, bonusUsed: r.bonusCredits, grantDraws: r.grantDraws ?? [], chargedAt: r.createdAt });
  await tx.insert(creditTransactions).values({
    userId: r.userId,
    transactionType: 'release',
    creditsUsed: r.credits,
    creditsDelta: back.delta,
    bonusCredits: back.bonusCredits,
    grantDraws: back.grantDraws.length ? back.grantDraws : null,
    balanceAfter: back.balanceAfter,
    source,
    tier: r.tier,
    enhancementType: r.enhancementType,
    moodboardId: r.moodboardId,
    reservationId: r.id,
    status: r.status === 'expired' ? 'expired' : 'refunded',
    reason,
  });
}

/**
 * Releases every pending hold past its expiry, a batch at a time. SKIP LOCKED lets several workers
 * share the work; each hold is settled once because the status change is the claim.
 */
export async function expireReservations(db: DbOrTx, batchSize = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const due = await tx
        .update(creditReservations)
        .set({ status: 'expired', settledAt: sql`now()`, releaseReason: 'expired' })
        .where(
          sql`${creditReservations.id} in (
            select id from credit_reservations
            where status = 'pending' and expires_at <= now()
            order by expires_at limit ${batchSize} for update skip locked)`,
        )
        .returning();
      // Users in a fixed order so two expiring batches never lock each other's users crosswise.
      for (const r of due.sort((a, b) => a.userId.localeCompare(b.userId))) await returnHold(tx, r, 'expired');
      return due.length;
    });
    total += n;
    if (n < batchSize) return total;
  }
}

/**
 * Keeps a pending hold alive for at least `seconds` more (never shortens it): asynchronous
 * enhancements extend their hold as each provider attempt begins, so a long provider task is not
 * overtaken by the expiry job. False when the hold is no longer pending and unexpired.
 */
export async function extendReservation(db: DbOrTx, reservationId: string, seconds: number): Promise<boolean> {
  const rows = await db
    .update(creditReservations)
    .set({ expiresAt: sql`greatest(${creditReservations.expiresAt}, now() + make_interval(secs => ${seconds}))` })
    .where(sql`${creditReservations.id} = ${reservationId} and ${creditReservations.status} = 'pending' and ${creditReservations.expiresAt} > now()`)
    .returning({ id: creditReservations.id });
  return rows.length > 0;
}
