import { creditsConsumed } from '../ops/metrics';
import { eq, sql } from 'drizzle-orm';
import type { CaptureInput, ReserveInput, ReserveResult, TransactionView } from '../../shared/credits';
import type { DbOrTx } from '../db/client';
import { queryRows } from '../db/rows';
import { DomainError } from '../errors';
import { drawForCapture } from '../pools/capture-draw';
import { creditBack, debitUser, type OverflowGate } from './debit';
import { idempotencyConflict, ReplayDetected } from './errors';
import { requestHash } from './request-hash';
import { creditReservations, creditTransactions } from './tables';
import { toReservationView, toTransactionView } from './views';

export const DEFAULT_HOLD_SECONDS = 300;

type ReservationRow = typeof creditReservations.$inferSelect;

const unknownReservation = () => new DomainError('NOT_FOUND', 'UNKNOWN_RESERVATION', 'No reservation with that id.');
const expired = () => new DomainError('PRECONDITION_FAILED', 'RESERVATION_EXPIRED', 'The reservation expired before it was captured; its credits were returned.');
const notPending = (status: string) =>
  new DomainError('CONFLICT', 'RESERVATION_NOT_PENDING', `The reservation is already ${status}.`);

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

/** Takes the credits at once into a hold that capture settles, release returns, or expiry returns. */
export async function reserveCredits(db: DbOrTx, input: ReserveInput & { apiKeyId?: string | null }, overflowGate?: OverflowGate): Promise<ReserveResult> {
  const ttl = input.ttlSeconds ?? DEFAULT_HOLD_SECONDS;
  const hash = requestHash('reserve', {
    userId: input.userId,
    credits: input.credits,
    enhancementType: input.enhancementType,
    moodboardId: input.moodboardId,
    ttlSeconds: ttl,
  });
  try {
    return await db.transaction(async (tx) => {
      const debit = await debitUser(tx, input.userId, input.credits, overflowGate);
      const [hold] = await tx
        .insert(creditReservations)
        .values({
          userId: input.userId,
          credits: input.credits,
          bonusCredits: debit.bonusUsed,
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
    if (err instanceof ReplayDetected || err instanceof DomainError) {
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
const ownerCondition = (owner: HoldOwner) =>
  owner.apiKeyId === undefined ? sql`true` : sql`${creditReservations.apiKeyId} = ${owner.apiKeyId}`;

export type ProviderDraw = (db: DbOrTx, provider: string, credits: number, reservationId: string) => Promise<{ costUsd: string }>;

/**
 * Settles a pending, unexpired hold into a completed transaction. With a `provider`, the drawer
 * (the pools domain) takes that provider's credits and names the cost; else `costUsd` as given.
 */
export async function captureReservation(
  db: DbOrTx,
  input: CaptureInput & HoldOwner,
  drawProvider: ProviderDraw = drawForCapture,
): Promise<TransactionView> {
  const captured = await db.transaction(async (tx) => {
    const [r] = await tx
      .update(creditReservations)
      .set({ status: 'captured', settledAt: sql`now()`, provider: input.provider ?? null, apiRequestId: input.apiRequestId ?? null })
      .where(sql`${creditReservations.id} = ${input.reservationId} and ${creditReservations.status} = 'pending' and ${creditReservations.expiresAt} > now() and ${ownerCondition(input)}`)
      .returning();
    if (!r) return null;
    const drawn = input.provider ? await drawProvider(tx, input.provider, r.credits, r.id) : null;
    const costUsd = drawn?.costUsd ?? input.costUsd ?? '0';
    const [balance] = await queryRows<{ total: number }>(
      tx,
      sql`select current_balance + bonus_balance as total from user_credits where user_id = ${r.userId}`,
    );
    const [done] = await tx
      .insert(creditTransactions)
      .values({
        userId: r.userId,
        transactionType: 'capture',
        creditsUsed: r.credits,
        creditsDelta: 0,
        balanceAfter: Number(balance!.total),
        source: r.source,
        tier: r.tier,
        costUsd,
        provider: input.provider ?? null,
        apiRequestId: input.apiRequestId ?? null,
        enhancementType: r.enhancementType,
        moodboardId: r.moodboardId,
        reservationId: r.id,
      })
      .returning();
    await tx
      .update(creditReservations)
      .set({ costUsd, captureTransactionId: done!.id })
      .where(eq(creditReservations.id, r.id));
    return { view: toTransactionView(done!), tier: r.tier };
  });
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

/** The refund half of a release or an expiry: credits back to the user and a `release` entry. */
async function returnHold(tx: DbOrTx, r: ReservationRow, reason: string): Promise<void> {
  const source = r.source as 'user_credits' | 'platform_pool';
  const balanceAfter = await creditBack(tx, r.userId, { source, credits: r.credits, bonusUsed: r.bonusCredits, chargedAt: r.createdAt });
  await tx.insert(creditTransactions).values({
    userId: r.userId,
    transactionType: 'release',
    creditsUsed: r.credits,
    creditsDelta: source === 'user_credits' ? r.credits : 0,
    bonusCredits: r.bonusCredits,
    balanceAfter,
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
