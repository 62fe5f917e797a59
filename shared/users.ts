import { z } from 'zod';
import { tierSchema } from './enums';
import { emailSchema, userIdSchema } from './common';
import { stripeCustomerIdSchema } from './payments';

export const upsertUserInputSchema = z.object({
  userId: userIdSchema,
  email: emailSchema.optional(),
  tier: tierSchema,
  /** Links the user to the Stripe customer who pays for them: subscription and checkout events find the user by it. */
  stripeCustomerId: stripeCustomerIdSchema.optional(),
});
export type UpsertUserInput = z.infer<typeof upsertUserInputSchema>;

/** A user made by hand on the Users page: the same first allocation as users.upsert, refused if the id exists. */
export const createUserInputSchema = z.object({
  userId: userIdSchema,
  email: emailSchema.optional(),
  tier: tierSchema,
});
export type CreateUserInput = z.infer<typeof createUserInputSchema>;

/** The Users page's filters (search, tier, out of credits): what a bulk operation applies to. */
export const userFilterSchema = z.object({
  search: z.string().trim().max(254).optional(),
  tier: tierSchema.optional(),
  outOfCredits: z.boolean().optional(),
});
export type UserFilter = z.infer<typeof userFilterSchema>;

/** A bulk grant reaches at most this many users in one go: narrow the filter beyond it. */
export const BULK_GRANT_MAX_USERS = 100_000;

const bulkCreditsSchema = z
  .number({ message: 'credits must be a number' })
  .int('credits must be a whole number')
  .positive('credits must be at least 1')
  .max(10_000, 'credits is at most 10000 per user');

export const bulkGrantPreviewInputSchema = z.object({ filter: userFilterSchema, credits: bulkCreditsSchema });
export const bulkGrantPreviewSchema = z.object({ users: z.number().int(), totalCredits: z.number().int() });

export const bulkGrantInputSchema = z.object({
  filter: userFilterSchema,
  credits: bulkCreditsSchema,
  reason: z.string().trim().min(3, 'a reason of at least 3 characters is required').max(500),
  /** One per bulk operation (the dialog makes it when it opens): a retry with it grants nothing twice. */
  idempotencyKey: z.string().min(8, 'idempotencyKey must be at least 8 characters').max(128),
  /** The count the admin confirmed: when the filter now matches another number, nothing is granted. */
  expectedUsers: z.number().int().min(1).max(BULK_GRANT_MAX_USERS),
});
export type BulkGrantInput = z.infer<typeof bulkGrantInputSchema>;
export const bulkGrantResultSchema = z.object({
  bulkGrantId: z.string(),
  usersGranted: z.number().int(),
  totalCredits: z.number().int(),
  /** True when this idempotency key had already run: the first result, nothing granted now. */
  replayed: z.boolean(),
});

/** The most data rows a tier import takes at once. */
export const TIER_IMPORT_MAX_ROWS = 5_000;

/** One CSV row of a tier import, checked on the server. */
export const tierImportRowSchema = z.object({ userId: userIdSchema, tier: tierSchema });

export const tierImportPreviewInputSchema = z.object({ csv: z.string().min(1, 'the CSV is empty').max(500_000, 'the CSV is at most 500 KB') });
export const tierImportApplyInputSchema = tierImportPreviewInputSchema.extend({
  reason: z.string().trim().min(3, 'a reason of at least 3 characters is required').max(500),
});

export const tierImportPreviewSchema = z.object({
  rows: z.number().int(),
  changes: z.array(
    z.object({
      line: z.number().int(),
      userId: z.string(),
      fromTier: tierSchema,
      toTier: tierSchema,
      /** The allowance balance after the change: max(0, new allowance − spent this month). */
      allowanceBefore: z.number().int(),
      allowanceAfter: z.number().int(),
    }),
  ),
  unchanged: z.number().int(),
  unknown: z.array(z.object({ line: z.number().int(), userId: z.string() })),
  invalid: z.array(z.object({ line: z.number().int(), text: z.string(), message: z.string() })),
});
export type TierImportPreview = z.infer<typeof tierImportPreviewSchema>;
export const tierImportResultSchema = z.object({ changed: z.number().int(), unchanged: z.number().int(), unknown: z.number().int(), invalid: z.number().int() });
