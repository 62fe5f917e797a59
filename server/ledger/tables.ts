import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const tierEnum = { enum: ['free', 'plus', 'pro'] as [string, ...string[]] } as const;

/** The platform's end users, keyed by the product's own user id. */
export const users = pgTable(
  'users',
  {
    userId: text('user_id').primaryKey(),
    email: text('email'),
    tier: text('tier', { enum: ['free', 'plus', 'pro'] }).notNull(),
    /** The Stripe customer paying for this user (users.upsert): subscription events find the user by it. */
    stripeCustomerId: text('stripe_customer_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('users_tier_check', sql`${t.tier} in ('free', 'plus', 'pro')`), index('users_email_idx').on(t.email), uniqueIndex('users_stripe_customer_uq').on(t.stripeCustomerId)],
);

/** Monthly credits and pool access per subscription tier; admins edit them. */
export const tierAllowances = pgTable(
  'tier_allowances',
  {
    tier: text('tier', tierEnum).primaryKey(),
    monthlyCredits: integer('monthly_credits').notNull(),
    poolAccess: boolean('pool_access').notNull(),
    /** Credits a user of this tier may overflow to the platform pool each month; null is unlimited. */
    monthlyOverflowCap: integer('monthly_overflow_cap'),
    /** Unused allowance carried into a rollover grant at the month's turn, at most this; 0 is none. */
    rolloverCap: integer('rollover_cap').notNull().default(0),
    /** How many months a rollover grant lasts before it expires. */
    rolloverMonths: integer('rollover_months').notNull().default(1),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('tier_allowances_credits_check', sql`${t.monthlyCredits} >= 0`),
    check('tier_allowances_overflow_cap_check', sql`${t.monthlyOverflowCap} is null or ${t.monthlyOverflowCap} >= 0`),
    check('tier_allowances_rollover_check', sql`${t.rolloverCap} >= 0 and ${t.rolloverMonths} between 1 and 24`),
  ],
);

/**
 * One row per user. The balance has two buckets: `current_balance` is this month's allowance
 * (set anew by each monthly reset) and `bonus_balance` holds granted credits, which survive resets.
 * Spending takes the allowance first. The user's balance is their sum.
 */
export const userCredits = pgTable(
  'user_credits',
  {
    userId: text('user_id')
      .primaryKey()
      .references(() => users.userId, { onDelete: 'cascade' }),
    subscriptionTier: text('subscription_tier', tierEnum).notNull(),
    monthlyAllowance: integer('monthly_allowance').notNull(),
    currentBalance: integer('current_balance').notNull(),
    bonusBalance: integer('bonus_balance').notNull().default(0),
    consumedThisMonth: integer('consumed_this_month').notNull().default(0),
    lifetimeConsumed: bigint('lifetime_consumed', { mode: 'number' }).notNull().default(0),
    lastResetAt: timestamp('last_reset_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * Net allowance taken since the last reset: what spends the allowance bucket adds, what returns
     * to it (a release, a refund, a positive adjustment) subtracts, so it may go negative. A tier
     * change sets the allowance to `max(0, new allowance - this)`; see ADR 005 for why a counter.
     */
    allowanceSpentThisPeriod: integer('allowance_spent_this_period').notNull().default(0),
    /** Credits overflowed to the platform pool since the last reset, held against the tier's cap. */
    overflowThisPeriod: integer('overflow_this_period').notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('user_credits_balance_check', sql`${t.currentBalance} >= 0`),
    check('user_credits_bonus_check', sql`${t.bonusBalance} >= 0`),
    check('user_credits_allowance_check', sql`${t.monthlyAllowance} >= 0`),
    check('user_credits_overflow_check', sql`${t.overflowThisPeriod} >= 0`),
    index('user_credits_reset_idx').on(t.lastResetAt),
    index('user_credits_tier_idx').on(t.subscriptionTier),
  ],
);

/**
 * The append-only ledger of the user leg. `credits_delta` is the signed change to the user's
 * balance (zero when the platform pool paid); the sum of a user's deltas equals their balance.
 */
export const creditTransactions = pgTable(
  'credit_transactions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.userId, { onDelete: 'cascade' }),
    transactionType: text('transaction_type').notNull(),
    creditsUsed: integer('credits_used').notNull().default(0),
    creditsDelta: integer('credits_delta').notNull(),
    bonusCredits: integer('bonus_credits').notNull().default(0),
    balanceAfter: integer('balance_after').notNull(),
    source: text('source'),
    /** The user's tier when the request was charged: analytics split usage by it. */
    tier: text('tier'),
    costUsd: numeric('cost_usd', { precision: 14, scale: 6 }),
    provider: text('provider'),
    apiRequestId: text('api_request_id'),
    enhancementType: text('enhancement_type'),
    moodboardId: text('moodboard_id'),
    status: text('status').notNull().default('completed'),
    errorMessage: text('error_message'),
    reservationId: uuid('reservation_id'),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    refundOf: bigint('refund_of', { mode: 'number' }),
    /** The grants this entry moved, as `[[grantId, delta], …]` (the allowance's part is the rest of credits_delta). */
    grantDraws: jsonb('grant_draws').$type<[number, number][]>(),
    reason: text('reason'),
    actor: text('actor'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'credit_transactions_type_check',
      sql`${t.transactionType} in ('allocation','consumption','hold','capture','release','grant','grant_expiry','adjustment','refund','tier_change','reallocation')`,
    ),
    check('credit_transactions_source_check', sql`${t.source} is null or ${t.source} in ('user_credits','platform_pool')`),
    check('credit_transactions_balance_check', sql`${t.balanceAfter} >= 0`),
    // Ascending: scanned backwards it serves `order by id desc` (NULLS FIRST); an `id desc` index is
    // NULLS LAST and served none of the newest-first reads, so each sorted all of a user's entries.
    index('credit_transactions_user_idx').on(t.userId, t.id),
    index('credit_transactions_created_idx').on(t.createdAt),
    // The Ledger explorer's type and provider filters; scanned backwards for newest first.
    index('credit_transactions_type_idx').on(t.transactionType, t.id),
    index('credit_transactions_provider_idx')
      .on(t.provider, t.id)
      .where(sql`${t.provider} is not null`),
    index('credit_transactions_reservation_idx').on(t.reservationId),
    uniqueIndex('credit_transactions_idempotency_uq').on(t.idempotencyKey),
    uniqueIndex('credit_transactions_refund_uq').on(t.refundOf),
  ],
);

/** Holds: credits taken at reserve time and settled by capture, release or expiry, exactly once. */
export const creditReservations = pgTable(
  'credit_reservations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: text('user_id')
      .notNull()
      .references(() => users.userId, { onDelete: 'cascade' }),
    credits: integer('credits').notNull(),
    bonusCredits: integer('bonus_credits').notNull().default(0),
    source: text('source').notNull(),
    tier: text('tier'),
    status: text('status').notNull().default('pending'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestHash: text('request_hash').notNull(),
    enhancementType: text('enhancement_type').notNull(),
    moodboardId: text('moodboard_id'),
    provider: text('provider'),
    costUsd: numeric('cost_usd', { precision: 14, scale: 6 }),
    apiRequestId: text('api_request_id'),
    releaseReason: text('release_reason'),
    captureTransactionId: bigint('capture_transaction_id', { mode: 'number' }),
    /** The grants the hold drew, `[[grantId, -credits], …]`: a release gives them back. */
    grantDraws: jsonb('grant_draws').$type<[number, number][]>(),
    /**
     * The API key that made the hold: only it may capture or release it. Null for holds made
     * inside the server without a key (and before ownership was recorded). Keys are revoked, never
     * deleted, so no foreign key into the auth domain is needed to keep it meaningful.
     */
    apiKeyId: uuid('api_key_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (t) => [
    check('credit_reservations_credits_check', sql`${t.credits} > 0`),
    check('credit_reservations_status_check', sql`${t.status} in ('pending','captured','released','expired')`),
    check('credit_reservations_source_check', sql`${t.source} in ('user_credits','platform_pool')`),
    uniqueIndex('credit_reservations_idempotency_uq').on(t.idempotencyKey),
    index('credit_reservations_pending_idx')
      .on(t.expiresAt)
      .where(sql`${t.status} = 'pending'`),
    index('credit_reservations_user_idx').on(t.userId),
  ],
);

/**
 * Every credit a user holds beyond this month's allowance is a grant: promotional (an admin's grant,
 * a bulk grant), paid (a Stripe credit pack) or rollover (allowance carried over by the tier's
 * rollover rule). A charge spends the allowance and the grants by priority (lower first), then
 * expiry (none last), then oldest first (ADR 022). `remaining` is what is left of it; the user's
 * `bonus_balance` is the sum of `remaining` over their unexpired grants, kept in the same statements.
 * Each entry that moves a grant names it in its `grant_draws`, so `remaining` equals
 * `opening_credits` plus those deltas (the reconciliation proves it).
 */
export const creditGrants = pgTable(
  'credit_grants',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.userId, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['promotional', 'paid', 'rollover'] })
      .notNull()
      .default('promotional'),
    priority: integer('priority').notNull().default(50),
    /** What the grant gave. */
    credits: integer('credits').notNull(),
    remaining: integer('remaining').notNull(),
    /** Credits a disputed grant holds out of the balance until the dispute is decided. */
    frozenCredits: integer('frozen_credits').notNull().default(0),
    frozenAt: timestamp('frozen_at', { withTimezone: true }),
    /** What the grant held when grants began to be tracked one by one (migration 0029); 0 since. */
    openingCredits: integer('opening_credits').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    expiredAt: timestamp('expired_at', { withTimezone: true }),
    transactionId: bigint('transaction_id', { mode: 'number' }),
    reason: text('reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('credit_grants_kind_check', sql`${t.kind} in ('promotional', 'paid', 'rollover')`),
    check('credit_grants_remaining_check', sql`${t.remaining} >= 0 and ${t.frozenCredits} >= 0`),
    check('credit_grants_priority_check', sql`${t.priority} between 0 and 1000`),
    index('credit_grants_due_idx')
      .on(t.expiresAt)
      .where(sql`${t.expiredAt} is null`),
    // The charge's look for a grant to spend: a user's unexpired grants with something left.
    index('credit_grants_spendable_idx')
      .on(t.userId, t.priority)
      .where(sql`${t.remaining} > 0 and ${t.expiredAt} is null`),
  ],
);

/**
 * One bulk grant to a filtered set of users: its idempotency key makes a retry return this row and
 * grant nothing more. The users' own entries carry `bulk:<id>:<userId>` idempotency keys.
 */
export const bulkGrants = pgTable(
  'bulk_grants',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestHash: text('request_hash').notNull(),
    filter: jsonb('filter').notNull(),
    credits: integer('credits').notNull(),
    reason: text('reason').notNull(),
    usersGranted: integer('users_granted').notNull(),
    totalCredits: bigint('total_credits', { mode: 'number' }).notNull(),
    actor: text('actor').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('bulk_grants_idempotency_uq').on(t.idempotencyKey), check('bulk_grants_credits_check', sql`${t.credits} > 0`)],
);
