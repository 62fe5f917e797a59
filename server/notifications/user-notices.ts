import { and, count, desc, eq, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import type { MarkReadInput, MarkReadResult, Notification, NotificationsInput, NotificationsPage } from '../../shared/notifications';
import type { DbOrTx } from '../db/client';
import { userNotifications } from '../providers/tables';

type Row = typeof userNotifications.$inferSelect;

function toView(row: Row, withMetadata: boolean): Notification {
  return {
    id: String(row.id),
    type: row.type,
    title: row.title,
    message: row.message,
    action: (row.action as Notification['action']) ?? null,
    createdAt: row.createdAt.toISOString(),
    readAt: row.readAt?.toISOString() ?? null,
    ...(withMetadata ? { metadata: (row.metadata ?? {}) as Record<string, unknown> } : {}),
  };
}

const unreadCountOf = async (db: DbOrTx, userId: string) => {
  const [row] = await db
    .select({ n: count() })
    .from(userNotifications)
    .where(and(eq(userNotifications.userId, userId), isNull(userNotifications.readAt)));
  return row?.n ?? 0;
};

/**
 * One page of a user's notices, newest first, by id (ids only grow, so a page boundary never
 * moves under notices written meanwhile). `withMetadata` is for API keys: a user's own token
 * reads the text and the action alone.
 */
export async function listNotifications(db: DbOrTx, input: NotificationsInput, opts: { withMetadata: boolean }): Promise<NotificationsPage> {
  const cursor = input.cursor !== undefined ? Number(input.cursor) : null;
  const rows = await db
    .select()
    .from(userNotifications)
    .where(and(eq(userNotifications.userId, input.userId), cursor !== null ? lt(userNotifications.id, cursor) : undefined, input.unreadOnly ? isNull(userNotifications.readAt) : undefined))
    .orderBy(desc(userNotifications.id))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit).map((r) => toView(r, opts.withMetadata));
  return {
    items,
    nextCursor: rows.length > input.limit ? items.at(-1)!.id : null,
    unreadCount: await unreadCountOf(db, input.userId),
  };
}

/**
 * Marks the named notices, or every one up to an id, read — only the user's own: another user's id
 * in `ids` is passed over as if it did not exist. A notice already read keeps its first read time.
 */
export async function markNotificationsRead(db: DbOrTx, input: MarkReadInput): Promise<MarkReadResult> {
  const which = input.ids !== undefined ? inArray(userNotifications.id, input.ids.map(Number)) : lte(userNotifications.id, Number(input.upTo));
  const marked = await db
    .update(userNotifications)
    .set({ readAt: sql`now()` })
    .where(and(eq(userNotifications.userId, input.userId), isNull(userNotifications.readAt), which))
    .returning({ id: userNotifications.id });
  return { marked: marked.length, unreadCount: await unreadCountOf(db, input.userId) };
}
