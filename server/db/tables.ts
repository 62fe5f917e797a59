import { sql } from 'drizzle-orm';
import { boolean, check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per database: the id that tells this installation apart from others sharing a host's
 * Redis (the default key prefix is built from it). Created once, on the first start.
 */
export const installation = pgTable(
  'installation',
  {
    singleton: boolean('singleton').primaryKey().default(true),
    installationId: text('installation_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('installation_singleton_check', sql`${t.singleton}`)],
);
