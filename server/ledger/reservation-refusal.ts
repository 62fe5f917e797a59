import { eq, sql } from 'drizzle-orm';
import type { CaptureInput, TransactionView } from '../../shared/credits';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { creditReservations, creditTransactions } from './tables';
import { toTransactionView } from './views';

export type ReservationRow = typeof creditReservations.$inferSelect;

const unknownReservation = () => new DomainError('NOT_FOUND', 'UNKNOWN_RESERVATION', 'No reservation with that id.');
const expired = () => new DomainError('PRECONDITION_FAILED', 'RESERVATION_EXPIRED', 'The reservation expired before it was captured; its credits were returned.');
export const notPending = (status: string) => new DomainError('CONFLICT', 'RESERVATION_NOT_PENDING', `The reservation is already ${status}.`);

/**
 * Who settles a hold: `apiKeyId` given, only a hold that key made (another's is NOT_FOUND, as if it
 * did not exist); omitted, any hold (the server's own callers).
 */
export type HoldOwner = { apiKeyId?: string };

/** Explains why a reservation could not be settled: gone, already settled, or expired. */
export async function refusal(db: DbOrTx, reservationId: string, owner: HoldOwner, captureRetry?: CaptureInput): Promise<TransactionView> {
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
export const ownerCondition = (owner: HoldOwner) => (owner.apiKeyId === undefined ? sql`true` : sql`${creditReservations.apiKeyId} = ${owner.apiKeyId}`);
