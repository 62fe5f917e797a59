import { z } from 'zod';
import { tierSchema } from './enums';
import { cursorInputSchema, idempotencyKeySchema, pageInputSchema, reasonSchema, userIdSchema } from './common';

export const creditSources = ['user_credits', 'platform_pool'] as const;
export const creditSourceSchema = z.enum(creditSources);
export type CreditSource = z.infer<typeof creditSourceSchema>;

export const enhancementTypes = ['lighting', 'upscale', 'color', 'sharpen', 'denoise', 'style'] as const;
export const enhancementTypeSchema = z.enum(enhancementTypes);
export type EnhancementType = z.infer<typeof enhancementTypeSchema>;

export const creditsSchema = z
  .number({ message: 'credits must be a number' })
  .int('credits must be a whole number')
  .positive('credits must be at least 1')
  .max(10_000, 'credits is at most 10000 per request');

/** A USD amount as a decimal string: money never travels as a float. */
export const usdSchema = z.string().regex(/^\d{1,8}(\.\d{1,6})?$/, 'must be a decimal string such as "0.0390" (at most 6 decimals)');

const optionalText = (name: string, max: number) => z.string().trim().min(1, `${name} must not be empty`).max(max, `${name} is at most ${max} characters`).optional();

export const balanceInputSchema = z.object({ userId: userIdSchema });

export const grantKinds = ['allowance', 'promotional', 'paid', 'rollover'] as const;
/** A grant's priority: lower is spent first (the allowance is 50, promotional grants 50, paid packs 100 by default). */
export const grantPrioritySchema = z.number({ message: 'priority must be a number' }).int('priority must be a whole number').min(0, 'priority is at least 0').max(1000, 'priority is at most 1000');

/** One source of a user's credits, in the order a charge spends them (ADR 022). */
export const grantViewSchema = z.object({
  /** Null for the month's allowance, which lives on the user's row. */
  grantId: z.string().nullable(),
  kind: z.enum(grantKinds),
  priority: z.number().int(),
  credits: z.number().int(),
  remaining: z.number().int(),
  /** Credits a disputed grant holds out of the balance until the dispute is decided. */
  frozenCredits: z.number().int(),
  expiresAt: z.string().nullable(),
  createdAt: z.string(),
  reason: z.string().nullable(),
});
export type GrantView = z.infer<typeof grantViewSchema>;

export const balanceSchema = z.object({
  userId: z.string(),
  tier: tierSchema,
  monthlyAllowance: z.number().int(),
  currentBalance: z.number().int(),
  bonusBalance: z.number().int(),
  consumedThisMonth: z.number().int(),
  lifetimeConsumed: z.number().int(),
  lastResetAt: z.string(),
  /** The allowance and every grant with credits left (or frozen), in spending order. */
  grants: z.array(grantViewSchema),
});
export type Balance = z.infer<typeof balanceSchema>;

/** A provider's name as the pools and the gateway know it. */
export const providerNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9_.-]+$/, 'provider must be a provider name such as fal');

export const consumeInputSchema = z.object({
  userId: userIdSchema,
  credits: creditsSchema,
  enhancementType: enhancementTypeSchema,
  idempotencyKey: idempotencyKeySchema,
  moodboardId: optionalText('moodboardId', 128),
  /** The provider the product app called itself: its pool pays the provider leg in the same transaction. */
  provider: providerNameSchema.optional(),
});
export type ConsumeInput = z.infer<typeof consumeInputSchema>;

export const consumeResultSchema = z.object({
  transactionId: z.string(),
  source: creditSourceSchema,
  creditsConsumed: z.number().int(),
  remainingBalance: z.number().int(),
  costUsd: z.string(),
});
export type ConsumeResult = z.infer<typeof consumeResultSchema>;

export const reserveInputSchema = z.object({
  userId: userIdSchema,
  credits: creditsSchema,
  enhancementType: enhancementTypeSchema,
  idempotencyKey: idempotencyKeySchema,
  ttlSeconds: z.number().int('ttlSeconds must be a whole number').min(5, 'ttlSeconds is at least 5').max(3600, 'ttlSeconds is at most 3600').optional(),
  moodboardId: optionalText('moodboardId', 128),
});
export type ReserveInput = z.infer<typeof reserveInputSchema>;

export const reserveResultSchema = z.object({
  reservationId: z.string(),
  source: creditSourceSchema,
  expiresAt: z.string(),
});
export type ReserveResult = z.infer<typeof reserveResultSchema>;

export const reservationIdSchema = z.string().uuid('reservationId must be a reservation id (UUID)');

export const captureInputSchema = z.object({
  reservationId: reservationIdSchema,
  provider: providerNameSchema.optional(),
  costUsd: usdSchema.optional(),
  apiRequestId: optionalText('apiRequestId', 200),
});
export type CaptureInput = z.infer<typeof captureInputSchema>;

export const releaseInputSchema = z.object({
  reservationId: reservationIdSchema,
  reason: optionalText('reason', 500),
});

export const transactionSchema = z.object({
  transactionId: z.string(),
  userId: z.string(),
  type: z.string(),
  source: creditSourceSchema.nullable(),
  creditsUsed: z.number().int(),
  creditsDelta: z.number().int(),
  balanceAfter: z.number().int(),
  costUsd: z.string().nullable(),
  provider: z.string().nullable(),
  enhancementType: z.string().nullable(),
  moodboardId: z.string().nullable(),
  reservationId: z.string().nullable(),
  status: z.string(),
  reason: z.string().nullable(),
  /** Who made an admin change (an email, `cli`, `api`), null for charges. */
  actor: z.string().nullable(),
  /** Whether an admin may refund it: a charge the user paid that is not refunded yet. */
  refundable: z.boolean(),
  createdAt: z.string(),
});
export type TransactionView = z.infer<typeof transactionSchema>;

export const reservationSchema = z.object({
  reservationId: z.string(),
  userId: z.string(),
  credits: z.number().int(),
  source: creditSourceSchema,
  status: z.enum(['pending', 'captured', 'released', 'expired']),
  expiresAt: z.string(),
  releaseReason: z.string().nullable(),
});

export const historyInputSchema = z.object({ userId: userIdSchema }).extend(cursorInputSchema.shape);
export const historyResultSchema = z.object({ items: z.array(transactionSchema), nextCursor: z.string().nullable() });

/**
 * What an end user's own token sees of an entry: what moved and when, never who made an admin
 * change or why (admins' emails and free-text reasons), nor provider and cost.
 */
export const publicTransactionSchema = transactionSchema.pick({
  transactionId: true,
  type: true,
  creditsDelta: true,
  balanceAfter: true,
  enhancementType: true,
  createdAt: true,
});
export const publicHistoryResultSchema = z.object({ items: z.array(publicTransactionSchema), nextCursor: z.string().nullable() });

export const userTokenInputSchema = z.object({ userId: userIdSchema });
export const userTokenSchema = z.object({ token: z.string(), expiresAt: z.string() });

// Admin operations: each needs a reason, which lands in the ledger and the audit log.
export const grantInputSchema = z.object({
  userId: userIdSchema,
  credits: creditsSchema,
  reason: reasonSchema,
  expiresAt: z.string().datetime({ offset: true, message: 'expiresAt must be an ISO-8601 time' }).optional(),
  /** Where the grant stands in the spending order; 50 (with the allowance) when absent. */
  priority: grantPrioritySchema.optional(),
});
export const adjustInputSchema = z.object({
  userId: userIdSchema,
  delta: z
    .number()
    .int('delta must be a whole number')
    .refine((v) => v !== 0, 'delta must not be zero')
    .refine((v) => Math.abs(v) <= 100_000, 'delta is at most 100000 either way'),
  reason: reasonSchema,
});
export const refundInputSchema = z.object({
  transactionId: z.string().regex(/^\d{1,18}$/, 'transactionId must be a transaction number'),
  reason: reasonSchema,
});
export const setTierInputSchema = z.object({ userId: userIdSchema, tier: tierSchema, reason: reasonSchema });

/** A tier's monthly overflow to the platform pool, in credits; null is unlimited. */
export const overflowCapSchema = z
  .number({ message: 'the overflow cap must be a number (leave it empty for unlimited)' })
  .int('the overflow cap must be a whole number')
  .min(0, 'the overflow cap is at least 0')
  .max(1_000_000, 'the overflow cap is at most 1000000')
  .nullable();

/** Unused allowance carried into the next month as a rollover grant, in credits; 0 is none. */
export const rolloverCapSchema = z
  .number({ message: 'the rollover cap must be a number (0 for no rollover)' })
  .int('the rollover cap must be a whole number')
  .min(0, 'the rollover cap is at least 0')
  .max(100_000, 'the rollover cap is at most 100000');
/** How many months a rollover grant lasts before what is left of it expires. */
export const rolloverMonthsSchema = z
  .number({ message: 'the rollover expiry must be a number of months' })
  .int('the rollover expiry must be a whole number of months')
  .min(1, 'a rollover lasts at least 1 month')
  .max(24, 'a rollover lasts at most 24 months');

export const tierAllowanceSchema = z.object({
  tier: tierSchema,
  monthlyCredits: z.number().int(),
  poolAccess: z.boolean(),
  monthlyOverflowCap: z.number().int().nullable(),
  rolloverCap: z.number().int(),
  rolloverMonths: z.number().int(),
  updatedAt: z.string(),
});
export const updateTierInputSchema = z.object({
  tier: tierSchema,
  monthlyCredits: z.number().int('monthlyCredits must be a whole number').min(0).max(100_000),
  poolAccess: z.boolean(),
  /** Absent keeps the current cap; null makes it unlimited. */
  monthlyOverflowCap: overflowCapSchema.optional(),
  /** Absent keeps the current rollover rule. */
  rolloverCap: rolloverCapSchema.optional(),
  rolloverMonths: rolloverMonthsSchema.optional(),
  reason: reasonSchema,
});

export const userSortKeys = ['userId', 'email', 'tier', 'balance', 'consumedThisMonth', 'lastActivity'] as const;
export const userListInputSchema = pageInputSchema.extend({
  search: z.string().trim().max(254).optional(),
  tier: tierSchema.optional(),
  outOfCredits: z.boolean().optional(),
  sort: z.enum(userSortKeys).default('userId'),
  direction: z.enum(['asc', 'desc']).default('asc'),
});
export const userRowSchema = z.object({
  userId: z.string(),
  email: z.string().nullable(),
  tier: tierSchema,
  monthlyAllowance: z.number().int(),
  balance: z.number().int(),
  bonusBalance: z.number().int(),
  consumedThisMonth: z.number().int(),
  lastActivity: z.string().nullable(),
});
export const userListSchema = z.object({ rows: z.array(userRowSchema), total: z.number().int() });
