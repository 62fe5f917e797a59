import { z } from 'zod';
import { tierSchema } from './enums';

/** A Stripe id (`price_…`, `cus_…`): letters, digits and underscores. */
const stripeIdSchema = (name: string, prefix: string) =>
  z
    .string()
    .trim()
    .min(1, `${name} is required`)
    .max(255, `${name} is at most 255 characters`)
    .regex(new RegExp(`^${prefix}_[A-Za-z0-9_]+$`), `${name} must be a Stripe id such as ${prefix}_1Nx…`);

export const stripePriceIdSchema = stripeIdSchema('priceId', 'price');
export const stripeCustomerIdSchema = stripeIdSchema('stripeCustomerId', 'cus');

export const priceKinds = ['tier', 'pack'] as const;
export const priceKindSchema = z.enum(priceKinds);
export type PriceKind = z.infer<typeof priceKindSchema>;

/**
 * A Stripe price mapped to a tier (its subscriptions set the user's tier) or to a credit pack (a paid
 * checkout grants `credits` bonus credits, expiring after `expiresInDays` when given).
 */
export const priceMappingInputSchema = z
  .object({
    priceId: stripePriceIdSchema,
    kind: priceKindSchema,
    tier: tierSchema.optional(),
    credits: z.number({ message: 'credits must be a number' }).int('credits must be a whole number').min(1, 'credits must be at least 1').max(1_000_000, 'credits is at most 1000000').optional(),
    expiresInDays: z
      .number({ message: 'expiresInDays must be a number' })
      .int('expiresInDays must be a whole number')
      .min(1, 'expiresInDays must be at least 1')
      .max(3650, 'expiresInDays is at most 3650')
      .optional(),
  })
  .superRefine((v, ctx) => {
    if (v.kind === 'tier') {
      if (!v.tier) ctx.addIssue({ code: 'custom', path: ['tier'], message: 'a tier price needs a tier' });
      if (v.credits !== undefined) ctx.addIssue({ code: 'custom', path: ['credits'], message: 'credits are for packs; a tier price has none' });
      if (v.expiresInDays !== undefined) ctx.addIssue({ code: 'custom', path: ['expiresInDays'], message: 'expiresInDays is for packs; a tier price has none' });
    } else {
      if (v.credits === undefined) ctx.addIssue({ code: 'custom', path: ['credits'], message: 'a pack needs its number of credits' });
      if (v.tier !== undefined) ctx.addIssue({ code: 'custom', path: ['tier'], message: 'a pack grants credits; it has no tier' });
    }
  });
export type PriceMappingInput = z.infer<typeof priceMappingInputSchema>;

export const priceMappingSchema = z.object({
  priceId: z.string(),
  kind: priceKindSchema,
  tier: tierSchema.nullable(),
  credits: z.number().int().nullable(),
  expiresInDays: z.number().int().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type PriceMapping = z.infer<typeof priceMappingSchema>;

export const stripeEventOutcomes = ['processed', 'ignored', 'failed', 'refused'] as const;
export const stripeEventOutcomeSchema = z.enum(stripeEventOutcomes);
export type StripeEventOutcome = z.infer<typeof stripeEventOutcomeSchema>;

export const stripeEventsInputSchema = z.object({
  outcome: stripeEventOutcomeSchema.optional(),
  /** The `id` of the last row of the previous page (newest first). */
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, 'cursor must be the nextCursor of a previous page')
    .optional(),
  limit: z.number().int().min(1).max(200).default(50),
});

/** A failed event, by its row id (`StripeEventView.id`), to apply again from its stored payload. */
export const stripeEventRetryInputSchema = z.object({ id: z.string().regex(/^\d{1,18}$/, 'id must be the id of an event row') });

export const stripeEventSchema = z.object({
  id: z.string(),
  eventId: z.string().nullable(),
  type: z.string().nullable(),
  eventCreatedAt: z.string().nullable(),
  outcome: stripeEventOutcomeSchema,
  reason: z.string().nullable(),
  error: z.string().nullable(),
  userId: z.string().nullable(),
  objectId: z.string().nullable(),
  creditsDelta: z.number().int().nullable(),
  creditsLost: z.number().int().nullable(),
  attempts: z.number().int(),
  receivedAt: z.string(),
});
export type StripeEventView = z.infer<typeof stripeEventSchema>;
export const stripeEventsPageSchema = z.object({ items: z.array(stripeEventSchema), nextCursor: z.string().nullable() });
