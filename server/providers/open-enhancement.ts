import { sql } from 'drizzle-orm';
import type { ReserveInput, ReserveResult } from '../../shared/credits';
import type { Db } from '../db/client';
import { pgErrorCode, UNIQUE_VIOLATION } from '../db/errors';
import { col, queryOne } from '../db/rows';
import { chargeShapesFor, compileEachShape, noteChargeSource, type ChargeShape } from '../ledger/charge-shapes';
import { DEFAULT_HOLD_SECONDS, heldColumns, heldRow, holdCtes, holdRequestHash, holdSlots, reserveCredits } from '../ledger/reserve-credits';
import { completeDraw, drawnColumns, freeStripeDrawCtes, refundToPool, stripeHit, type PoolDraw } from '../pools/draw';
import { releaseReservation } from '../ledger/release-reservation';
import { attachReservation } from './enhancement-claims';

/** What the opening statement binds beyond the hold's: the claim to attach it to, the pool to draw and the draw's random start. */
const openSlots = { ...holdSlots, claimId: 'int', provider: 'text', start: 'int' } as const;

type OpenStatementInput = { userId: string; credits: number; idempotencyKey: string; enhancementType: string; moodboardId?: string | null; apiKeyId?: string | null };

/**
 * An enhancement's opening statement: the one-statement hold, its reservation attached to the
 * enhancement's claim, and the first provider's pool drawn for it (a free stripe and its pool
 * entry), as data-modifying CTEs of one statement. The attach and the draw run only when the hold
 * was made, so a refused charge or a replayed key (a unique violation fails the whole statement)
 * draws nothing. Exported so the HTTP benchmark's floor runs this very statement.
 */
export function openStatementSql(input: OpenStatementInput, ttl: number, hash: string, shape: ChargeShape, claimId: number, provider: string, start: number) {
  return sql`
    with ${holdCtes(input, ttl, hash, shape)}
    , attached as (
      update enhancement_requests e set reservation_id = hold.id::text from hold where e.id = ${claimId} returning e.id
    ), ${freeStripeDrawCtes(provider, input.credits, start, sql`(select hold.id::text from hold)`, sql`exists (select 1 from hold)`)}
    select ${heldColumns}, exists (select 1 from attached) as attached, ${drawnColumns(provider, input.credits)}
    from hold left join taken on true`;
}

/** The opening statement failed on a taken idempotency key. */
const REPLAYED = Symbol('replayed');

const openStatements = compileEachShape(openSlots, (v, shape) => openStatementSql(v, v.ttl, v.hash, shape, v.claimId, v.provider, v.start));

/** The hold's row, whether it was attached, and the draw's columns (stripeHit), all null when no stripe was free. */
const openedRow = heldRow.extend({ attached: col.bool, stripe: col.integerOrNull }).passthrough();

export type OpenRequest = ReserveInput & { apiKeyId?: string | null; claimId: number };
export type Opened = { hold: ReserveResult; drawn: PoolDraw | null };

/**
 * Holds an enhancement's credit, attaches the hold to its claim and, given the provider its first
 * attempt will call (already admitted by its circuit and rate limit), draws that provider's pool —
 * in one round trip in the common case (a one-statement hold, a free stripe). Anything else takes
 * reserveCredits' own way and attaches after it, and the attempt then draws as it always does:
 * `drawn` is null. A replayed key answers the first hold, as reserveCredits does, drawing nothing.
 */
export async function openEnhancement(db: Db, request: OpenRequest, drawFrom: string | null): Promise<Opened> {
  const ttl = request.ttlSeconds ?? DEFAULT_HOLD_SECONDS;
  if (drawFrom !== null) {
    const hash = holdRequestHash(request, ttl);
    const values = {
      userId: request.userId,
      credits: request.credits,
      ttl,
      idempotencyKey: request.idempotencyKey,
      hash,
      enhancementType: request.enhancementType,
      moodboardId: request.moodboardId ?? null,
      apiKeyId: request.apiKeyId ?? null,
      claimId: request.claimId,
      provider: drawFrom,
      start: Math.floor(Math.random() * 4096),
    };
    for (const shape of chargeShapesFor(request.userId, true)) {
      const row = await queryOne(db, openedRow, openStatements[shape](values)).catch((err: unknown): typeof REPLAYED => {
        // A taken key: reserveCredits answers the first hold (or the conflict), as for any replay.
        // Only the statement's own: a follow-up's error after a hold was made is that opening's failure.
        if (pgErrorCode(err) === UNIQUE_VIOLATION) return REPLAYED;
        throw err;
      });
      if (row === REPLAYED) break;
      if (!row) continue;
      noteChargeSource(request.userId, row.source);
      const hold: ReserveResult = { reservationId: row.id, source: row.source, expiresAt: row.expires_at };
      const hit = row.stripe === null ? null : stripeHit.parse(row);
      try {
        if (!row.attached) await attachReservation(db, request.claimId, hold.reservationId);
        return { hold, drawn: hit ? await completeDraw(db, drawFrom, request.credits, hold.reservationId, hit) : null };
      } catch (err) {
        throw await undoOpening(db, err, hold.reservationId, hit ? drawFrom : null);
      }
    }
  }
  const hold = await reserveCredits(db, request, { oneStatementTried: drawFrom !== null });
  await attachReservation(db, request.claimId, hold.reservationId);
  return { hold, drawn: null };
}

/**
 * An opening whose follow-up failed (the attach, the refill request): no provider will be called
 * for it, so its draw goes back to the pool and its hold back to the user. Answers the error to
 * throw: the first one, or all of them if undoing failed too.
 */
async function undoOpening(db: Db, err: unknown, reservationId: string, drawnFrom: string | null): Promise<unknown> {
  const undone = await Promise.allSettled([
    drawnFrom ? db.transaction((tx) => refundToPool(tx, drawnFrom, 1, { reservationId, reason: 'the enhancement could not start' })) : null,
    releaseReservation(db, { reservationId, reason: 'the enhancement could not start' }),
  ]);
  const failed = undone.filter((u): u is PromiseRejectedResult => u.status === 'rejected').map((u) => u.reason as unknown);
  return failed.length ? new AggregateError([err, ...failed], 'opening an enhancement failed, and so did undoing it') : err;
}
