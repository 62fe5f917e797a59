import { z } from 'zod';
import { cursorInputSchema, userIdSchema } from './common';
import { tierSchema } from './enums';

/** The kinds of notice the server writes to a user (user_notifications.type). */
export const notificationTypes = ['upgrade_suggestion', 'enhancement_degraded', 'credits_low'] as const;

const noticeIdSchema = z.string().regex(/^\d{1,18}$/, 'must be a notification id');

/**
 * What the product can offer the user beside the text: a button labelled `label` that upgrades to
 * `tier`, retries the enhancement after `retryAfterSeconds`, or waits for the monthly reset (`wait`). Unknown kinds pass through, so a
 * new kind of notice never breaks an older client.
 */
export const notificationActionSchema = z
  .object({
    kind: z.string(),
    label: z.string(),
    tier: tierSchema.optional(),
    retryAfterSeconds: z.number().int().optional(),
  })
  .loose();

export const notificationSchema = z.object({
  id: noticeIdSchema,
  type: z.string(),
  title: z.string(),
  message: z.string(),
  action: notificationActionSchema.nullable(),
  createdAt: z.string(),
  /** null while unread. */
  readAt: z.string().nullable(),
  /** Facts behind the notice (enhancement type, counts); an API key sees them, a user token does not. */
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type Notification = z.infer<typeof notificationSchema>;

export const notificationsInputSchema = z.object({ userId: userIdSchema, unreadOnly: z.boolean().optional() }).extend(cursorInputSchema.shape);
export type NotificationsInput = z.infer<typeof notificationsInputSchema>;

/** Newest first; pass `nextCursor` back as `cursor` for the next page (null: no more). */
export const notificationsPageSchema = z.object({
  items: z.array(notificationSchema),
  nextCursor: z.string().nullable(),
  unreadCount: z.number().int(),
});
export type NotificationsPage = z.infer<typeof notificationsPageSchema>;

/**
 * Either the ids read (at most 100), or `upTo`: every notice with that id or an older one — the id
 * of the newest notice the user has seen, so notices that arrive meanwhile stay unread.
 */
export const markReadInputSchema = z
  .object({
    userId: userIdSchema,
    ids: z.array(noticeIdSchema).min(1, 'ids must name at least one notification').max(100, 'ids names at most 100 notifications').optional(),
    upTo: noticeIdSchema.optional(),
  })
  .refine((v) => (v.ids === undefined) !== (v.upTo === undefined), { message: 'give either ids or upTo', path: ['ids'] });
export type MarkReadInput = z.infer<typeof markReadInputSchema>;

export const markReadResultSchema = z.object({
  /** Notices that were unread and are now read (marking a read notice again counts nothing). */
  marked: z.number().int(),
  unreadCount: z.number().int(),
});
export type MarkReadResult = z.infer<typeof markReadResultSchema>;
