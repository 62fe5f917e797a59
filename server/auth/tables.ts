import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const admins = pgTable(
  'admins',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ['admin', 'analyst'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    /** Set when the password was generated (or an admin asked for it): the session may only change it. */
    mustChangePassword: boolean('must_change_password').notNull().default(false),
    /** The TOTP secret sealed with the master key; set by setup, live once `totpEnabledAt` is set. */
    totpSecret: text('totp_secret'),
    totpEnabledAt: timestamp('totp_enabled_at', { withTimezone: true }),
    /** The last accepted TOTP time step: a code is accepted once, never replayed. */
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
  },
  (t) => [check('admins_role_check', sql`${t.role} in ('admin', 'analyst')`)],
);

export const adminSessions = pgTable(
  'admin_sessions',
  {
    /** sha256 of the cookie token: a leaked table does not hand out sessions. */
    id: text('id').primaryKey(),
    /** What the admin's session list names a session by: the id above is the token's hash and stays inside. */
    handle: uuid('handle').notNull().defaultRandom().unique(),
    adminId: uuid('admin_id')
      .notNull()
      .references(() => admins.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** Moved at most once a minute, so a busy session does not write on every request. */
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [index('admin_sessions_admin_idx').on(t.adminId), index('admin_sessions_expires_idx').on(t.expiresAt)],
);

export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  prefix: text('prefix').notNull(),
  /** sha256 of the secret; the secret itself is shown once and never stored. */
  keyHash: text('key_hash').notNull().unique(),
  scopes: text('scopes').array().notNull(),
  createdBy: uuid('created_by').references(() => admins.id, { onDelete: 'set null' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  /** After it the key is refused; null never expires. */
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  /** The secret a rotation replaced, accepted until `previousExpiresAt` (the grace period). */
  previousKeyHash: text('previous_key_hash').unique(),
  previousPrefix: text('previous_prefix'),
  previousExpiresAt: timestamp('previous_expires_at', { withTimezone: true }),
  rotatedAt: timestamp('rotated_at', { withTimezone: true }),
});

/** Calls per key per UTC day: one upsert per authorised call, read for the 30-day usage chart. */
export const apiKeyUsageDaily = pgTable(
  'api_key_usage_daily',
  {
    apiKeyId: uuid('api_key_id')
      .notNull()
      .references(() => apiKeys.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    calls: integer('calls').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.apiKeyId, t.day] })],
);

/** One-time recovery codes for an admin's second factor, stored as hashes. */
export const adminRecoveryCodes = pgTable(
  'admin_recovery_codes',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    adminId: uuid('admin_id')
      .notNull()
      .references(() => admins.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('admin_recovery_codes_admin_hash_idx').on(t.adminId, t.codeHash)],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    actorAdminId: uuid('actor_admin_id').references(() => admins.id, { onDelete: 'set null' }),
    /** Who acted, kept readable after the admin is gone: an email, or `cli`. */
    actorLabel: text('actor_label').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    before: jsonb('before'),
    after: jsonb('after'),
    reason: text('reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_log_created_idx').on(t.createdAt.desc()),
    index('audit_log_target_idx').on(t.targetType, t.targetId),
    // The Audit page filters by actor and action prefix (LIKE 'x%' needs text_pattern_ops).
    index('audit_log_actor_idx').on(t.actorLabel.op('text_pattern_ops'), t.id),
    index('audit_log_action_idx').on(t.action.op('text_pattern_ops'), t.id),
  ],
);
