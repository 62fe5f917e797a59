import { z } from 'zod';
import { userIdSchema } from './common';
import { creditSourceSchema, providerNameSchema } from './credits';
import { ledgerRowSchema, transactionTypeSchema } from './ledger';

/** `tracked()` ids arrive back as `lastEventId` when a stream reconnects. */
const lastEventIdSchema = z.string().max(64).nullish();

/** The dashboard's headline figures, pushed as they change (the same values admin.dashboard answers). */
export const liveFiguresSchema = z.object({
  platformCreditsRemaining: z.number().int(),
  creditsConsumedToday: z.number().int(),
  requestsToday: z.number().int(),
  activeUsers: z.number().int(),
  monthCostUsd: z.string(),
  activeAlertCount: z.number().int(),
});
export type LiveFigures = z.infer<typeof liveFiguresSchema>;

export const liveStreamInputSchema = z.object({ lastEventId: lastEventIdSchema }).optional();

/** A provider's routing-relevant state: whether it is on, healthy, and its pool. */
export const liveProviderSchema = z.object({
  name: z.string(),
  isActive: z.boolean(),
  healthy: z.boolean().nullable(),
  archived: z.boolean(),
  poolStatus: z.string().nullable(),
});
export type LiveProvider = z.infer<typeof liveProviderSchema>;
export const liveProviderEventSchema = z.object({
  /** `snapshot` on (re)connect: every provider; `changed`: the ones whose state moved. */
  kind: z.enum(['snapshot', 'changed']),
  providers: z.array(liveProviderSchema),
});
export type LiveProviderEvent = z.infer<typeof liveProviderEventSchema>;

export const liveAlertSchema = z.object({
  id: z.string(),
  type: z.string(),
  level: z.string(),
  subject: z.string(),
  message: z.string(),
  status: z.string(),
  occurrences: z.number().int(),
  lastSeenAt: z.string(),
});
export type LiveAlert = z.infer<typeof liveAlertSchema>;
export const liveAlertEventSchema = z.object({
  /** `snapshot` on (re)connect: every unresolved alert; then `raised` / `updated` / `resolved` one at a time. */
  kind: z.enum(['snapshot', 'raised', 'updated', 'resolved']),
  alerts: z.array(liveAlertSchema),
});
export type LiveAlertEvent = z.infer<typeof liveAlertEventSchema>;

export const liveLedgerFilterSchema = z.object({
  userId: userIdSchema.optional(),
  type: transactionTypeSchema.optional(),
  source: creditSourceSchema.optional(),
  provider: providerNameSchema.optional(),
});
export type LiveLedgerFilter = z.infer<typeof liveLedgerFilterSchema>;
export const liveLedgerInputSchema = liveLedgerFilterSchema.extend({ lastEventId: lastEventIdSchema });
export type LiveLedgerRow = z.infer<typeof ledgerRowSchema>;

/** How many recent rows a fresh Live stream starts with, and the most a resume replays. */
export const LIVE_LEDGER_INITIAL = 50;
export const LIVE_LEDGER_RESUME_MAX = 1_000;

/**
 * A live ledger row's values in the order it travels in. Every charge goes to every open unfiltered
 * feed, so a feed's bytes are multiplied by the feeds open; sent as objects, the keys were half of
 * each row's bytes (445 of a consume's, 216 as a tuple). `matchedBy` is a search's, never a feed's.
 */
export const LIVE_LEDGER_COLUMNS = [
  'transactionId',
  'userId',
  'email',
  'type',
  'source',
  'creditsUsed',
  'creditsDelta',
  'balanceAfter',
  'costUsd',
  'provider',
  'enhancementType',
  'moodboardId',
  'reservationId',
  'status',
  'reason',
  'actor',
  'idempotencyKey',
  'createdAt',
] as const satisfies readonly Exclude<keyof LiveLedgerRow, 'matchedBy'>[];
type LiveColumns = typeof LIVE_LEDGER_COLUMNS;
export type LiveLedgerTuple = { -readonly [I in keyof LiveColumns]: LiveColumns[I] extends keyof LiveLedgerRow ? LiveLedgerRow[LiveColumns[I]] : never };

export const toLiveTuple = (r: LiveLedgerRow): LiveLedgerTuple => LIVE_LEDGER_COLUMNS.map((k) => r[k]) as unknown as LiveLedgerTuple;

export function fromLiveTuple(t: LiveLedgerTuple): LiveLedgerRow {
  const row: Record<string, unknown> = { matchedBy: null };
  LIVE_LEDGER_COLUMNS.forEach((k, i) => (row[k] = t[i]));
  return row as LiveLedgerRow;
}

/** One event of the ledger feed: a hub tick's matching rows, or (`opening`) a fresh stream's newest ones. */
export type LiveLedgerEvent = { opening: boolean; rows: LiveLedgerTuple[] };
