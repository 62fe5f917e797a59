import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { WebhookEventType } from '../../shared/webhooks';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';

export type WebhookEventInput = {
  type: WebhookEventType;
  data: Record<string, unknown>;
  /** An event with a key already used is not written again (e.g. once per user per month). */
  dedupeKey?: string;
};

/**
 * Writes the event to the outbox in the caller's transaction: it exists exactly when the change that
 * caused it commits. The SQL function `webhook_emit` (migration 0024) is the one home of the payload
 * shape, shared with the balance trigger on user_credits. Returns the webhook-id, or null when the
 * dedupe key was already used.
 */
export async function emitWebhookEvent(db: DbOrTx, event: WebhookEventInput): Promise<string | null> {
  const row = await queryOne(db, z.object({ msg_id: col.textOrNull }), sql`select webhook_emit(${event.type}, ${JSON.stringify(event.data)}::jsonb, ${event.dedupeKey ?? null}) as msg_id`);
  return row?.msg_id ?? null;
}
