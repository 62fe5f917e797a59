import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { EnhanceResult } from '../../shared/enhance';
import { compileSql } from '../db/compiled-sql';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { captureCtes } from '../ledger/capture-reservation';
import { OPEN_STATUSES } from './enhancement-claims';

type Values = { claimId: string | number; reservationId: string; provider: string; apiRequestId: string; costUsd: string; result: string };

/**
 * A served enhancement settled in one statement, atomic without an explicit transaction: the
 * enhancement's row locked while still open, the hold captured (the capture's own CTEs, so it is the
 * same capture as credits.capture's), the result stored and its `enhancement.completed` event written
 * to the outbox. Every step depends on the one before it, so a miss (settled already by a callback or
 * a poll, a hold expired or released) changes nothing and returns no row; the caller then takes the
 * transaction that explains it. It replaces six round trips (BEGIN, the lock, the capture, the
 * result, the event, COMMIT) with one. `result` is the stored JSON as text. Exported so the HTTP
 * benchmark's floor runs this very statement.
 */
export const settleServedStatementSql = (v: Values) => sql`
  with locked as (
    select id from enhancement_requests where id = ${v.claimId} and status in (${sql.join(
      OPEN_STATUSES.map((status) => sql`${status}`),
      sql`, `,
    )}) for update
  ), ${captureCtes({ reservationId: v.reservationId, provider: v.provider, apiRequestId: v.apiRequestId }, v.costUsd, sql`exists (select 1 from locked)`)},
  completed as (
    update enhancement_requests set status = 'enhanced', result = ${v.result}::jsonb, reservation_id = ${v.reservationId},
      completed_at = now(), lease_until = null
    where id = (select id from locked) and exists (select 1 from done)
    returning enhancement_id::text, user_id, idempotency_key
  )
  select d.source, d.tier, d.credits_used,
    webhook_emit('enhancement.completed', jsonb_build_object('enhancementId', c.enhancement_id, 'userId', c.user_id,
      'idempotencyKey', c.idempotency_key, 'result', ${v.result}::jsonb), null) as msg_id
  from completed c cross join done d`;

const settleServedStatement = compileSql({ claimId: 'int', reservationId: 'text', provider: 'text', apiRequestId: 'text', costUsd: 'text', result: 'text' }, settleServedStatementSql);

// The event's msg_id is selected so webhook_emit runs; nothing reads it.
const settledRow = z.object({ source: col.textOrNull, tier: col.textOrNull, credits_used: col.integer });

export type ServedSettlement = { claimId: number; reservationId: string; provider: string; apiRequestId: string; result: EnhanceResult & { status: 'enhanced' } };

/** The one-statement settlement (above); null when it did not apply (nothing was changed). */
export async function settleServedInOneStatement(db: DbOrTx, s: ServedSettlement): Promise<z.infer<typeof settledRow> | null> {
  const row = await queryOne(
    db,
    settledRow,
    settleServedStatement({
      claimId: s.claimId,
      reservationId: s.reservationId,
      provider: s.provider,
      apiRequestId: s.apiRequestId,
      costUsd: s.result.costUsd,
      result: JSON.stringify(s.result),
    }),
  );
  return row ?? null;
}
