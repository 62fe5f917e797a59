import { sql } from 'drizzle-orm';
import { bigserial, boolean, check, date, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** Who gets each automated report (set on the Alerts page); no row: the report is off. */
export const reportSettings = pgTable(
  'report_settings',
  {
    kind: text('kind').primaryKey(),
    enabled: boolean('enabled').notNull().default(false),
    /** Post to the Slack channel's webhook. */
    slack: boolean('slack').notNull().default(false),
    /** Sent through the email channel's SMTP server to these addresses instead of the alert recipients. */
    emailTo: text('email_to')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('report_settings_kind_check', sql`${t.kind} in ('daily','weekly')`)],
);

/**
 * One row per (kind, period): the claim that makes a report go out once, however many workers run
 * its job; `sent_channels` lets a retry send only what did not go out.
 */
export const reportRuns = pgTable(
  'report_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    periodStart: date('period_start', { mode: 'string' }).notNull(),
    periodEnd: date('period_end', { mode: 'string' }).notNull(),
    status: text('status').notNull().default('sending'),
    attempts: integer('attempts').notNull().default(1),
    sentChannels: text('sent_channels')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    content: jsonb('content'),
    lastError: text('last_error'),
    claimedAt: timestamp('claimed_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    check('report_runs_kind_check', sql`${t.kind} in ('daily','weekly')`),
    check('report_runs_status_check', sql`${t.status} in ('sending','sent','failed')`),
    uniqueIndex('report_runs_period_uq').on(t.kind, t.periodStart),
  ],
);
