import { sql } from 'drizzle-orm';
import { bigserial, boolean, check, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * The AI providers the gateway may call, in priority order. Their success rate is not stored: it is
 * computed from provider_calls (server/providers/call-stats.ts, ADR 011).
 */
export const apiProviders = pgTable(
  'api_providers',
  {
    name: text('name').primaryKey(),
    kind: text('kind').notNull(),
    baseUrl: text('base_url').notNull(),
    apiKeyEncrypted: text('api_key_encrypted'),
    model: text('model'),
    costPerRequest: numeric('cost_per_request', { precision: 12, scale: 6 }).notNull().default('0'),
    rateLimitPerMinute: integer('rate_limit_per_minute').notNull().default(60),
    priority: integer('priority').notNull().default(100),
    timeoutMs: integer('timeout_ms').notNull().default(30_000),
    isActive: boolean('is_active').notNull().default(true),
    healthCheckUrl: text('health_check_url'),
    lastHealthCheck: timestamp('last_health_check', { withTimezone: true }),
    lastHealthOk: boolean('last_health_ok'),
    lastHealthDetail: text('last_health_detail'),
    /** The last failed health check's own error and time; a later success does not clear them. */
    lastHealthError: text('last_health_error'),
    lastHealthErrorAt: timestamp('last_health_error_at', { withTimezone: true }),
    /** Archived: hidden from the default list, never tried by the gateway; its history keeps pointing here. */
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('api_providers_kind_check', sql`${t.kind} in ('nanobanana','fal','kie','google','local')`),
    check('api_providers_rate_check', sql`${t.rateLimitPerMinute} > 0`),
    check('api_providers_timeout_check', sql`${t.timeoutMs} between 100 and 600000`),
    index('api_providers_order_idx').on(t.priority, t.costPerRequest),
  ],
);

/** Every attempt on a provider: success rate, last error and latency are computed from here. */
export const providerCalls = pgTable(
  'provider_calls',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    provider: text('provider').notNull(),
    requestId: text('request_id').notNull(),
    reservationId: text('reservation_id'),
    outcome: text('outcome').notNull(),
    latencyMs: integer('latency_ms'),
    httpStatus: integer('http_status'),
    errorKind: text('error_kind'),
    error: text('error'),
    providerRequestId: text('provider_request_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('provider_calls_outcome_check', sql`${t.outcome} in ('success','failure','skipped')`),
    index('provider_calls_provider_idx').on(t.provider, t.createdAt),
    index('provider_calls_request_idx').on(t.requestId),
    // Today's failed attempts, for the live provider breakdown, without scanning every call.
    index('provider_calls_failures_idx')
      .on(t.createdAt)
      .where(sql`${t.outcome} = 'failure'`),
  ],
);

/**
 * One row per enhancement idempotency key: the claim while it runs, the result once it is done.
 * enhance.run rows are `processing` until settled; enhance.submit rows are `queued` (the row is the
 * outbox: committed with the hold, enqueued after commit, re-enqueued by the sweeper), then `running`
 * under a lease while a worker holds them, with the provider task they wait on in `provider_task`.
 */
export const enhancementRequests = pgTable(
  'enhancement_requests',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The id product apps see (enhance.submit / enhance.get); never the sequence. */
    enhancementId: uuid('enhancement_id').notNull().defaultRandom(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestHash: text('request_hash').notNull(),
    userId: text('user_id').notNull(),
    status: text('status').notNull().default('processing'),
    mode: text('mode').notNull().default('sync'),
    reservationId: text('reservation_id'),
    result: jsonb('result'),
    /** enhance.submit: the input the worker runs, the key that submitted it. */
    input: jsonb('input'),
    apiKeyId: text('api_key_id'),
    /** SHA-256 of the per-request secret in the provider callback URL. */
    callbackTokenHash: text('callback_token_hash'),
    /** The provider attempt in flight: provider, pool draw, task reference (resumed after a restart). */
    providerTask: jsonb('provider_task'),
    failures: jsonb('failures').notNull().default([]),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    check('enhancement_requests_status_check', sql`${t.status} in ('processing','queued','running','enhanced','degraded','failed')`),
    check('enhancement_requests_mode_check', sql`${t.mode} in ('sync','async')`),
    uniqueIndex('enhancement_requests_key_uq').on(t.idempotencyKey),
    uniqueIndex('enhancement_requests_public_id_uq').on(t.enhancementId),
    index('enhancement_requests_user_idx').on(t.userId, t.createdAt),
    // The sweeper's scan: async work not settled yet.
    index('enhancement_requests_async_open_idx')
      .on(t.leaseUntil)
      .where(sql`${t.status} in ('queued','running')`),
  ],
);

/** Messages for end users (a degraded enhancement, an upgrade suggestion). */
export const userNotifications = pgTable(
  'user_notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: text('user_id').notNull(),
    type: text('type').notNull(),
    title: text('title').notNull(),
    message: text('message').notNull(),
    /** What the user can do about it: `{ kind, label, … }` (upgrade to a tier, retry later). */
    action: jsonb('action'),
    metadata: jsonb('metadata').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    readAt: timestamp('read_at', { withTimezone: true }),
    /** A notice sent once per occasion (a low-credit notice once per user and month) is keyed here. */
    dedupeKey: text('dedupe_key'),
  },
  (t) => [index('user_notifications_user_idx').on(t.userId, t.createdAt), uniqueIndex('user_notifications_dedupe_uq').on(t.dedupeKey)],
);
