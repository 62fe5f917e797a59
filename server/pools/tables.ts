import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The platform's prepaid credits at one AI provider. The balance is not stored here: it lives in
 * credit_pool_stripes (many rows, so concurrent draws do not queue on one) and is their sum.
 */
export const creditPools = pgTable(
  'credit_pools',
  {
    provider: text('provider').primaryKey(),
    totalPurchased: bigint('total_purchased', { mode: 'number' }).notNull().default(0),
    costPerCredit: numeric('cost_per_credit', { precision: 12, scale: 6 }).notNull(),
    lastRefillAt: timestamp('last_refill_at', { withTimezone: true }),
    lastRefillAmount: integer('last_refill_amount'),
    autoRefillThreshold: integer('auto_refill_threshold').notNull().default(0),
    /** When set, the threshold is this percentage of the last refill instead of the fixed number. */
    autoRefillThresholdPercent: integer('auto_refill_threshold_percent'),
    autoRefillAmount: integer('auto_refill_amount').notNull().default(0),
    refillMode: text('refill_mode').notNull().default('fixed'),
    refillTargetBalance: integer('refill_target_balance'),
    emergencyReserve: integer('emergency_reserve').notNull().default(0),
    billingMode: text('billing_mode').notNull().default('manual'),
    billingUrl: text('billing_url'),
    billingApiKeyEncrypted: text('billing_api_key_encrypted'),
    providerReportedBalance: bigint('provider_reported_balance', { mode: 'number' }),
    providerBalanceCheckedAt: timestamp('provider_balance_checked_at', { withTimezone: true }),
    refillBackoffUntil: timestamp('refill_backoff_until', { withTimezone: true }),
    /** Refill attempts that failed in a row (refused or outcome unknown); a success resets it. */
    refillFailures: integer('refill_failures').notNull().default(0),
    lastRefillError: text('last_refill_error'),
    /** Set after too many failures in a row: no automatic refill until an admin re-enables it. */
    autoRefillStoppedAt: timestamp('auto_refill_stopped_at', { withTimezone: true }),
    status: text('status').notNull().default('active'),
    /** Archived: kept suspended (so nothing draws or refills it) and hidden from the default list. */
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    stripeCount: integer('stripe_count').notNull().default(32),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('credit_pools_status_check', sql`${t.status} in ('active','suspended','depleted')`),
    check('credit_pools_billing_check', sql`${t.billingMode} in ('manual','http')`),
    check('credit_pools_refill_mode_check', sql`${t.refillMode} in ('fixed','top_up')`),
    check('credit_pools_cost_check', sql`${t.costPerCredit} >= 0`),
    check('credit_pools_amounts_check', sql`${t.autoRefillThreshold} >= 0 and ${t.autoRefillAmount} >= 0 and ${t.emergencyReserve} >= 0`),
    check('credit_pools_percent_check', sql`${t.autoRefillThresholdPercent} is null or ${t.autoRefillThresholdPercent} between 1 and 100`),
    check('credit_pools_stripes_check', sql`${t.stripeCount} between 1 and 256`),
  ],
);

/**
 * A pool's balance in stripes. Stripe -1 is the emergency reserve, drawn only when every other
 * stripe is empty. `consumed` counts what each stripe paid out, so total_consumed is their sum too.
 */
export const creditPoolStripes = pgTable(
  'credit_pool_stripes',
  {
    provider: text('provider')
      .notNull()
      .references(() => creditPools.provider, { onDelete: 'cascade' }),
    stripe: integer('stripe').notNull(),
    balance: bigint('balance', { mode: 'number' }).notNull().default(0),
    consumed: bigint('consumed', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.provider, t.stripe] }), check('credit_pool_stripes_balance_check', sql`${t.balance} >= 0`)],
);

/** The pool's own ledger: the sum of a pool's deltas equals the sum of its stripes. */
export const creditPoolTransactions = pgTable(
  'credit_pool_transactions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    provider: text('provider')
      .notNull()
      .references(() => creditPools.provider, { onDelete: 'cascade' }),
    transactionType: text('transaction_type').notNull(),
    creditsDelta: bigint('credits_delta', { mode: 'number' }).notNull(),
    stripe: integer('stripe'),
    stripeBalanceAfter: bigint('stripe_balance_after', { mode: 'number' }),
    costUsd: numeric('cost_usd', { precision: 14, scale: 6 }),
    reservationId: text('reservation_id'),
    purchaseRequestId: bigint('purchase_request_id', { mode: 'number' }),
    reason: text('reason'),
    actor: text('actor'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('credit_pool_transactions_type_check', sql`${t.transactionType} in ('purchase','consumption','refund','reallocation','adjustment')`),
    index('credit_pool_transactions_provider_idx').on(t.provider, t.createdAt),
    index('credit_pool_transactions_reservation_idx').on(t.reservationId),
  ],
);

/** Refills: manual ones wait for an admin; http ones are sent to the provider's billing endpoint. */
export const creditPurchaseRequests = pgTable(
  'credit_purchase_requests',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    provider: text('provider')
      .notNull()
      .references(() => creditPools.provider, { onDelete: 'cascade' }),
    amountRequested: integer('amount_requested').notNull(),
    estimatedCost: numeric('estimated_cost', { precision: 14, scale: 6 }).notNull(),
    status: text('status').notNull(),
    trigger: text('trigger').notNull(),
    note: text('note'),
    requestedBy: text('requested_by').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decisionReason: text('decision_reason'),
    processingStartedAt: timestamp('processing_started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    providerTransactionId: text('provider_transaction_id'),
    errorMessage: text('error_message'),
    /** Billing calls made for this request; every one carried the same idempotency key. */
    attempts: integer('attempts').notNull().default(0),
  },
  (t) => [
    check('credit_purchase_requests_status_check', sql`${t.status} in ('pending_manual_approval','approved','outcome_unknown','rejected','completed','failed')`),
    check('credit_purchase_requests_amount_check', sql`${t.amountRequested} > 0`),
    // At most one automatic refill in flight per pool, however many draws cross the threshold at
    // once; a purchase whose outcome is unknown is still in flight (it may have been bought).
    uniqueIndex('credit_purchase_requests_one_open_auto_uq')
      .on(t.provider)
      .where(sql`${t.trigger} = 'auto' and ${t.status} in ('pending_manual_approval','approved','outcome_unknown')`),
    index('credit_purchase_requests_status_idx').on(t.status, t.requestedAt),
  ],
);

/** Platform-wide settings, one row. */
export const platformSettings = pgTable(
  'platform_settings',
  {
    id: integer('id').primaryKey().default(1),
    monthlyRevenueUsd: numeric('monthly_revenue_usd', { precision: 14, scale: 2 }).notNull().default('0'),
    creditBudgetSharePercent: integer('credit_budget_share_percent').notNull().default(80),
    refillBackoffSeconds: integer('refill_backoff_seconds').notNull().default(3600),
    providerDriftTolerance: integer('provider_drift_tolerance').notNull().default(10),
    // Smart reallocation (the seed's SmartCreditAllocator): the rules' numbers.
    upgradeMinEnhancements: integer('upgrade_min_enhancements').notNull().default(20),
    upgradeWindowDays: integer('upgrade_window_days').notNull().default(30),
    upgradeActiveDays: integer('upgrade_active_days').notNull().default(7),
    upgradeCooldownDays: integer('upgrade_cooldown_days').notNull().default(30),
    reallocationIdleDays: integer('reallocation_idle_days').notNull().default(14),
    /** The pool that receives reallocated credits; null = the active pool of the first-priority provider. */
    reallocationPool: text('reallocation_pool'),
    /** A refill above either figure asks the admin to confirm it in the Refill dialog (a slip of the keyboard costs real money). */
    refillConfirmCredits: integer('refill_confirm_credits').notNull().default(10_000),
    refillConfirmUsd: numeric('refill_confirm_usd', { precision: 14, scale: 2 }).notNull().default('250'),
    /** The users_out_of_credits check fires for a paying tier when more than this many of its users are at zero. */
    usersOutOfCreditsThreshold: integer('users_out_of_credits_threshold').notNull().default(10),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('platform_settings_single_row', sql`${t.id} = 1`),
    check('platform_settings_share_check', sql`${t.creditBudgetSharePercent} between 0 and 100`),
    check('platform_settings_confirm_check', sql`${t.refillConfirmCredits} >= 0 and ${t.refillConfirmUsd} >= 0`),
    check('platform_settings_users_out_check', sql`${t.usersOutOfCreditsThreshold} >= 1`),
  ],
);
