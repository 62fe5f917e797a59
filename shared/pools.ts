import { z } from 'zod';
import { outboundUrlSchema, pageInputSchema, reasonSchema } from './common';

export const providerNameSchema = z
  .string()
  .trim()
  .min(2, 'provider must be at least 2 characters')
  .max(40, 'provider is at most 40 characters')
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'provider must be lower-case letters, digits, _ . - (e.g. fal)');

export const costPerCreditSchema = z
  .string()
  .trim()
  .regex(/^\d{1,6}(\.\d{1,6})?$/, 'costPerCredit must be a decimal string such as "0.039"');

const wholeCredits = (name: string) =>
  z
    .number({ message: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(0, `${name} must not be negative`)
    .max(100_000_000);

export const poolInputSchema = z
  .object({
    provider: providerNameSchema,
    costPerCredit: costPerCreditSchema,
    autoRefillThreshold: wholeCredits('autoRefillThreshold'),
    autoRefillThresholdPercent: z.number().int().min(1).max(100).nullable().default(null),
    autoRefillAmount: wholeCredits('autoRefillAmount'),
    refillMode: z.enum(['fixed', 'top_up']).default('fixed'),
    refillTargetBalance: wholeCredits('refillTargetBalance').nullable().default(null),
    emergencyReserve: wholeCredits('emergencyReserve').default(0),
    billingMode: z.enum(['manual', 'http']).default('manual'),
    billingUrl: outboundUrlSchema('billingUrl').nullable().default(null),
    /** Write-only: set to store a new key, omit to keep the current one, null to remove it. */
    billingApiKey: z.string().min(1).max(500).nullable().optional(),
  })
  .refine((p) => p.billingMode !== 'http' || p.billingUrl, { message: 'billingUrl is required for http billing', path: ['billingUrl'] })
  .refine((p) => p.refillMode !== 'top_up' || (p.refillTargetBalance ?? 0) > 0, {
    message: 'refillTargetBalance is required to top up to a target',
    path: ['refillTargetBalance'],
  });
export type PoolInput = z.infer<typeof poolInputSchema>;

export const poolStatusSchema = z.enum(['active', 'suspended', 'depleted']);

export const poolSchema = z.object({
  provider: z.string(),
  status: poolStatusSchema,
  availableBalance: z.number().int(),
  reserveBalance: z.number().int(),
  totalPurchased: z.number().int(),
  totalConsumed: z.number().int(),
  consumedToday: z.number().int(),
  costPerCredit: z.string(),
  autoRefillThreshold: z.number().int(),
  autoRefillThresholdPercent: z.number().int().nullable(),
  effectiveThreshold: z.number().int(),
  autoRefillAmount: z.number().int(),
  refillMode: z.enum(['fixed', 'top_up']),
  refillTargetBalance: z.number().int().nullable(),
  emergencyReserve: z.number().int(),
  billingMode: z.enum(['manual', 'http']),
  billingUrl: z.string().nullable(),
  billingApiKeySet: z.boolean(),
  lastRefillAt: z.string().nullable(),
  refillBackoffUntil: z.string().nullable(),
  refillFailures: z.number().int(),
  lastRefillError: z.string().nullable(),
  autoRefillStoppedAt: z.string().nullable(),
  providerReportedBalance: z.number().int().nullable(),
  providerBalanceCheckedAt: z.string().nullable(),
  archivedAt: z.string().nullable(),
});
export type PoolView = z.infer<typeof poolSchema>;

export const refillInputSchema = z.object({
  provider: providerNameSchema,
  amount: z.number({ message: 'amount must be a number' }).int('amount must be a whole number').positive('amount must be at least 1').max(10_000_000),
  reason: z.string().trim().max(500).optional(),
});

export const purchaseRequestStatusSchema = z.enum(['pending_manual_approval', 'approved', 'outcome_unknown', 'rejected', 'completed', 'failed']);

export const purchaseRequestSchema = z.object({
  id: z.string(),
  provider: z.string(),
  amountRequested: z.number().int(),
  estimatedCost: z.string(),
  status: purchaseRequestStatusSchema,
  trigger: z.string(),
  note: z.string().nullable(),
  requestedBy: z.string(),
  requestedAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisionReason: z.string().nullable(),
  completedAt: z.string().nullable(),
  providerTransactionId: z.string().nullable(),
  errorMessage: z.string().nullable(),
  attempts: z.number().int(),
});

export const purchaseRequestListInputSchema = pageInputSchema.extend({
  status: purchaseRequestStatusSchema.optional(),
  provider: providerNameSchema.optional(),
});

export const decideRequestInputSchema = z.object({
  id: z.string().regex(/^\d{1,18}$/, 'id must be a purchase request number'),
  reason: reasonSchema,
});

export const poolStatusChangeInputSchema = z.object({ provider: providerNameSchema, reason: reasonSchema });

export const platformSettingsSchema = z.object({
  monthlyRevenueUsd: z.string(),
  creditBudgetSharePercent: z.number().int(),
  refillBackoffSeconds: z.number().int(),
  providerDriftTolerance: z.number().int(),
  refillConfirmCredits: z.number().int(),
  refillConfirmUsd: z.string(),
  usersOutOfCreditsThreshold: z.number().int(),
  budgetUsd: z.string(),
  spentThisMonthUsd: z.string(),
});

export const updatePlatformSettingsInputSchema = z.object({
  monthlyRevenueUsd: z
    .string()
    .trim()
    .regex(/^\d{1,12}(\.\d{1,2})?$/, 'monthlyRevenueUsd must be a decimal string such as "12500.00"'),
  creditBudgetSharePercent: z.number().int().min(0, 'creditBudgetSharePercent is 0 to 100').max(100, 'creditBudgetSharePercent is 0 to 100'),
  refillBackoffSeconds: z
    .number()
    .int()
    .min(60, 'refillBackoffSeconds is at least 60')
    .max(7 * 86_400),
  providerDriftTolerance: z.number().int().min(0).max(1_000_000),
  refillConfirmCredits: z
    .number({ message: 'Enter a whole number of credits' })
    .int('Enter a whole number of credits')
    .min(0, 'Use 0 or more credits')
    .max(100_000_000, 'Use at most 100,000,000 credits')
    .optional(),
  refillConfirmUsd: z
    .string()
    .trim()
    .regex(/^\d{1,12}(\.\d{1,2})?$/, 'Enter an amount in dollars such as 250.00')
    .optional(),
  reason: reasonSchema,
});

/** The one threshold of the users_out_of_credits check (Settings owns it; the Alerts rule only turns the check on). */
export const usersOutThresholdInputSchema = z.object({
  usersOutOfCreditsThreshold: z.number({ message: 'Enter a whole number of users' }).int('Enter a whole number of users').min(1, 'Use 1 or more users').max(1_000_000, 'Use at most 1,000,000 users'),
  reason: reasonSchema,
});

export const budgetSummarySchema = z.object({
  configured: z.boolean(),
  monthlyRevenueUsd: z.string(),
  creditBudgetSharePercent: z.number().int(),
  budgetUsd: z.string(),
  refillsUsd: z.string(),
  leftUsd: z.string(),
  overBudget: z.boolean(),
  providerCostMonthToDateUsd: z.string(),
  providerCostProjectedUsd: z.string(),
});
export type BudgetSummaryView = z.infer<typeof budgetSummarySchema>;

export const archivePoolInputSchema = z.object({
  provider: providerNameSchema,
  reason: reasonSchema,
  /** The admin's explicit choice to archive a pool that still holds credits (they stay on its books). */
  archiveWithBalance: z.boolean().default(false),
});
export const restorePoolInputSchema = z.object({ provider: providerNameSchema, reason: reasonSchema });
