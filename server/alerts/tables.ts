import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

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
  },
  (t) => [
    check('system_alerts_level_check', sql`${t.level} in ('info','warning','error','critical')`),
    check('system_alerts_status_check', sql`${t.status} in ('open','acknowledged','resolved')`),
    index('system_alerts_open_idx').on(t.type, t.subject).where(sql`${t.status} <> 'resolved'`),
    index('system_alerts_created_idx').on(t.createdAt.desc()),
  ],
);
