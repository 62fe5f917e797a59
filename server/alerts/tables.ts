import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Every alert raised, written in the transaction that raised it: the row is also the outbox from
 * which channels deliver after commit. `dedupe_key` (type + subject) folds repeats into one open alert.
 */
export const systemAlerts = pgTable(
  'system_alerts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    type: text('type').notNull(),
    level: text('level').notNull(),
    subject: text('subject').notNull().default(''),
    message: text('message').notNull(),
    metadata: jsonb('metadata').notNull().default({}),
    status: text('status').notNull().default('open'),
    occurrences: integer('occurrences').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    acknowledgedBy: text('acknowledged_by'),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    resolvedBy: text('resolved_by'),
    /**
     * Set when the alert opens, escalates to critical or resolves: the changes channels hear of.
     * Repeats of an open alert only count; reminders are due by last_notified_at and the repeat interval.
     */
    needsRouting: boolean('needs_routing').notNull().default(true),
    /** When the alert last went to its channels (firing or reminder); null while silenced or not yet routed. */
    lastNotifiedAt: timestamp('last_notified_at', { withTimezone: true }),
    /** The silence that held back its last notice, if one did. */
    silenceId: bigint('silence_id', { mode: 'number' }),
  },
  (t) => [
    check('system_alerts_level_check', sql`${t.level} in ('info','warning','error','critical')`),
    check('system_alerts_status_check', sql`${t.status} in ('open','acknowledged','resolved')`),
    // One open alert per type + subject: repeats fold into it, under any concurrency.
    uniqueIndex('system_alerts_open_uq')
      .on(t.type, t.subject)
      .where(sql`${t.status} <> 'resolved'`),
    index('system_alerts_routing_idx')
      .on(t.id)
      .where(sql`${t.needsRouting}`),
    index('system_alerts_created_idx').on(t.createdAt.desc()),
  ],
);

/** Delivery channels and their settings; secrets (webhook URLs, SMTP password, tokens) sealed with the master key. */
export const alertChannels = pgTable(
  'alert_channels',
  {
    channel: text('channel').primaryKey(),
    enabled: boolean('enabled').notNull().default(false),
    config: jsonb('config').notNull().default({}),
    secretEncrypted: text('secret_encrypted'),
    cooldownSeconds: integer('cooldown_seconds').notNull().default(900),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('alert_channels_channel_check', sql`${t.channel} in ('slack','email','sms','in_app')`), check('alert_channels_cooldown_check', sql`${t.cooldownSeconds} >= 0`)],
);

/** Admin-configured alert rules: thresholds for the checks and extra channels per alert type. */
export const creditAlerts = pgTable(
  'credit_alerts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    alertType: text('alert_type').notNull(),
    thresholdValue: numeric('threshold_value', { precision: 14, scale: 4 }),
    notificationChannels: text('notification_channels')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    isActive: boolean('is_active').notNull().default(true),
    lastTriggeredAt: timestamp('last_triggered_at', { withTimezone: true }),
    /** How long an alert of this type stays open before its channels are reminded (Alertmanager's repeat_interval). */
    repeatIntervalSeconds: integer('repeat_interval_seconds').notNull().default(14_400),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('credit_alerts_type_idx').on(t.alertType), check('credit_alerts_repeat_interval_check', sql`${t.repeatIntervalSeconds} >= 60`)],
);

/**
 * An admin's silence of an alert type (one subject, or all when subject is null) until ends_at:
 * matching alerts are still recorded, but their notices are not sent while it lasts.
 */
export const alertSilences = pgTable(
  'alert_silences',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    alertType: text('alert_type').notNull(),
    subject: text('subject'),
    reason: text('reason').notNull(),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull().defaultNow(),
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    endedBy: text('ended_by'),
  },
  (t) => [
    check('alert_silences_window_check', sql`${t.endsAt} > ${t.startsAt}`),
    index('alert_silences_active_idx')
      .on(t.alertType, t.endsAt)
      .where(sql`${t.endedAt} is null`),
  ],
);

/** One row per (alert, channel) send: the cool-down claim, the retries and the last error. */
export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    alertId: bigint('alert_id', { mode: 'number' })
      .notNull()
      .references(() => systemAlerts.id, { onDelete: 'cascade' }),
    channel: text('channel').notNull(),
    /** firing: the crossing (or escalation); reminder: still open after the repeat interval; resolved: it cleared. */
    kind: text('kind').notNull().default('firing'),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    payload: jsonb('payload'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    check('alert_deliveries_status_check', sql`${t.status} in ('pending','sent','failed')`),
    check('alert_deliveries_kind_check', sql`${t.kind} in ('firing','reminder','resolved')`),
    index('alert_deliveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index('alert_deliveries_alert_idx').on(t.alertId),
  ],
);

/** When each (type, subject) was last sent on each channel: the cross-process cool-down. */
export const alertCooldowns = pgTable(
  'alert_cooldowns',
  {
    alertType: text('alert_type').notNull(),
    subject: text('subject').notNull(),
    channel: text('channel').notNull(),
    lastSentAt: timestamp('last_sent_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.alertType, t.subject, t.channel] })],
);
