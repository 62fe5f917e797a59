import { z } from 'zod';

/** The product's own user id: opaque, printable, bounded. */
export const userIdSchema = z
  .string()
  .trim()
  .min(1, 'userId is required')
  .max(128, 'userId is at most 128 characters')
  .regex(/^[A-Za-z0-9_.:@-]+$/, 'userId may contain letters, digits and _ . : @ - only');

// Deliberately looser than RFC-style validators: `admin@localhost` is a real address here.
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'email is at most 254 characters')
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be a valid email address');

export const idempotencyKeySchema = z.string().min(8, 'idempotencyKey must be at least 8 characters').max(128, 'idempotencyKey is at most 128 characters');

export const reasonSchema = z.string().trim().min(3, 'a reason of at least 3 characters is required').max(500);

/** One pagination schema for every table (offset paging for admin tables). */
export const pageInputSchema = z.object({
  page: z.number().int().min(0).default(0),
  pageSize: z.number().int().min(1).max(200).default(50),
});
export type PageInput = z.infer<typeof pageInputSchema>;

/** Cursor paging for append-only streams such as a user's history. */
export const cursorInputSchema = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, 'cursor must be the nextCursor of a previous page')
    .optional(),
  limit: z.number().int().min(1).max(100).default(25),
});

/**
 * An admin-set URL the server will call (provider, billing, webhook, health check): http(s) only and
 * no credentials in it. Which addresses it may reach is the server's outbound policy, checked again
 * when it connects.
 */
export const outboundUrlSchema = (name: string) =>
  z
    .string()
    .trim()
    .max(2000, `${name} is at most 2000 characters`)
    .url(`${name} must be an http(s) URL`)
    .regex(/^https?:\/\//i, `${name} must be an http(s) URL`)
    .refine((v) => {
      try {
        const u = new URL(v);
        return !u.username && !u.password;
      } catch {
        return false;
      }
    }, `${name} must not carry a user name or password`);

/**
 * A filter's time bound: ISO-8601 with an offset, within years PostgreSQL and people use (year 0
 * or 275760 would parse here and fail in the database).
 */
export const timeFilterSchema = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 time such as 2026-01-31T00:00:00Z' }).refine((v) => {
  const year = new Date(v).getUTCFullYear();
  return year >= 1970 && year <= 9999;
}, 'must be a time between 1970 and 9999');
