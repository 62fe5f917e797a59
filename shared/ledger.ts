import { z } from 'zod';
import { pageInputSchema, timeFilterSchema } from './common';
import { creditSourceSchema, providerNameSchema, transactionSchema } from './credits';

export const transactionTypes = ['allocation', 'consumption', 'hold', 'capture', 'release', 'grant', 'grant_expiry', 'adjustment', 'refund', 'tier_change', 'reallocation'] as const;
export const transactionTypeSchema = z.enum(transactionTypes);

/**
 * The Ledger explorer's question: `query` finds a transaction by its number, its idempotency key,
 * its user id or the user's email (each exact, so each is one index lookup); the rest narrow it.
 */
export const ledgerFilterSchema = z.object({
  query: z.string().trim().min(1, 'the search must not be empty').max(254, 'the search is at most 254 characters').optional(),
  type: transactionTypeSchema.optional(),
  source: creditSourceSchema.optional(),
  provider: providerNameSchema.optional(),
  from: timeFilterSchema.optional(),
  to: timeFilterSchema.optional(),
});
export type LedgerFilter = z.infer<typeof ledgerFilterSchema>;

export const ledgerSearchInputSchema = pageInputSchema.extend(ledgerFilterSchema.shape).extend({
  /**
   * The id of the last row of the page before `page`, when the caller has it (paging forward):
   * that page is then read from the index at that row instead of skipping page × pageSize rows,
   * so a deep page costs what the first does, and rows that arrive meanwhile shift nothing.
   */
  before: z
    .string()
    .regex(/^\d{1,18}$/, 'before must be the transaction number of the last row of the page before')
    .optional(),
});
export type LedgerSearchInput = z.infer<typeof ledgerSearchInputSchema>;

export const ledgerRowSchema = transactionSchema.omit({ refundable: true }).extend({
  email: z.string().nullable(),
  idempotencyKey: z.string().nullable(),
  /** Which key the search matched on, so the page can say why a row is there. */
  matchedBy: z.enum(['transactionId', 'idempotencyKey', 'userId', 'email']).nullable(),
});
export type LedgerRow = z.infer<typeof ledgerRowSchema>;

/** `total` is exact when `totalExact`; otherwise at least that many match (counting stops there). */
export const ledgerSearchSchema = z.object({ rows: z.array(ledgerRowSchema), total: z.number().int(), totalExact: z.boolean() });
