import type { TransactionView } from '../../shared/credits';
import { creditReservations, creditTransactions } from './tables';

type TxRow = typeof creditTransactions.$inferSelect;
type ReservationRow = typeof creditReservations.$inferSelect;

export const toTransactionView = (t: TxRow): TransactionView => ({
  transactionId: String(t.id),
  userId: t.userId,
  type: t.transactionType,
  source: (t.source as TransactionView['source']) ?? null,
  creditsUsed: t.creditsUsed,
  creditsDelta: t.creditsDelta,
  balanceAfter: t.balanceAfter,
  costUsd: t.costUsd,
  provider: t.provider,
  enhancementType: t.enhancementType,
  moodboardId: t.moodboardId,
  reservationId: t.reservationId,
  status: t.status,
  reason: t.reason,
  actor: t.actor,
  refundable: (t.transactionType === 'consumption' || t.transactionType === 'capture') && t.source === 'user_credits' && t.status !== 'refunded',
  createdAt: t.createdAt.toISOString(),
});

export const toReservationView = (r: ReservationRow) => ({
  reservationId: r.id,
  userId: r.userId,
  credits: r.credits,
  source: r.source as 'user_credits' | 'platform_pool',
  status: r.status as 'pending' | 'captured' | 'released' | 'expired',
  expiresAt: r.expiresAt.toISOString(),
  releaseReason: r.releaseReason,
});
