import type { z } from 'zod';
import type { purchaseRequestStatusSchema } from '../../shared/pools';
import type { creditPurchaseRequests } from './tables';

export type RequestRow = typeof creditPurchaseRequests.$inferSelect;

export const toRequestView = (r: RequestRow) => ({
  id: String(r.id),
  provider: r.provider,
  amountRequested: r.amountRequested,
  estimatedCost: r.estimatedCost,
  status: r.status as z.infer<typeof purchaseRequestStatusSchema>,
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
  attempts: r.attempts,
});
