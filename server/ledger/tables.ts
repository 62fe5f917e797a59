import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** The platform's end users, keyed by the product's own user id. */
export const users = pgTable(
  'users',
  {
    userId: text('user_id').primaryKey(),
    email: text('email'),
    tier: text('tier', { enum: ['free', 'plus', 'pro'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('users_tier_check', sql`${t.tier} in ('free', 'plus', 'pro')`),
    index('users_email_idx').on(t.email),
  ],
);
