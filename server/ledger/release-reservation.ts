import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { creditBack } from './debit';
import { notPending, ownerCondition, refusal, type HoldOwner, type ReservationRow } from './reservation-refusal';
import { creditReservations, creditTransactions } from './tables';
import { lockCredits } from './user-credits';
import { toReservationView } from './views';

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
