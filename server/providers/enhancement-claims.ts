import { and, eq, lt, sql } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { EnhanceResult } from '../../shared/enhance';
import type { DbOrTx } from '../db/client';
import { inTransaction } from '../db/in-transaction';
import { col, queryOne } from '../db/rows';
import { DomainError } from '../errors';
import { idempotencyKeyTaken } from '../ledger/errors';
import { boundToCaller, sameRequest } from '../ledger/request-hash';
import { emitWebhookEvent } from '../webhooks/emit';
import { attachStatement, claimStatement, completeStatement } from './enhancement-statements';
import { enhancementRequests } from './tables';

/** An enhancement still to be settled: run (processing) or submitted (queued, running). */
export const OPEN_STATUSES: readonly string[] = ['processing', 'queued', 'running'];
const claimedRow = z.object({ id: col.integer });
const completedRow = z.object({ enhancement_id: col.text, user_id: col.text, idempotency_key: col.text });
const stillRunning = () => new DomainError('CONFLICT', 'CONFLICT', 'This enhancement is still running; retry with the same idempotency key for its result.');

export type Claim = { kind: 'claimed'; id: number } | { kind: 'done'; result: EnhanceResult } | { kind: 'interrupted'; id: number; reservationId: string | null };

type ClaimOptions = {
  waitMs: number;
  staleAfterMs: number;
  /** The API key asking (none: the server's own callers): the idempotency key belongs to the one that first used it. */
  apiKeyId?: string;
};

/**
 * Claims an idempotency key for one enhancement. A key already done returns its stored result; a
 * key still running elsewhere is waited for (its result then returned); a different input, or
 * another API key, is a conflict (ADR 029), decided before anything is waited for or taken over.
 */
export async function claimEnhancement(db: DbOrTx, key: string, hash: string, userId: string, opts: ClaimOptions): Promise<Claim> {
  const waitMs = opts.waitMs;
  const deadline = Date.now() + waitMs;
  // A run's row has no column for the API key: its fingerprint carries it.
  const bound = boundToCaller(hash, opts.apiKeyId);
  for (;;) {
    const claimed = await queryOne(db, claimedRow, claimStatement({ key, hash: bound, userId }));
    if (claimed) return { kind: 'claimed', id: claimed.id };
    const [prior] = await db.select().from(enhancementRequests).where(eq(enhancementRequests.idempotencyKey, key));
    if (!prior) continue; // released between the insert and the read: claim again
    // Submitted work (enhance.submit) records its key and the unbound fingerprint.
    const same = prior.mode === 'async' ? prior.requestHash === hash && prior.apiKeyId === (opts.apiKeyId ?? null) : sameRequest(prior, hash, bound);
    if (!same) throw idempotencyKeyTaken();
    if (prior.status === 'failed') throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', (prior.result as { message?: string } | null)?.message ?? 'This enhancement was refused.');
    if (!OPEN_STATUSES.includes(prior.status)) return { kind: 'done', result: prior.result as EnhanceResult };
    // Submitted work (enhance.submit) under the same key is waited for like a run in progress, never claimed as stale.
    if (prior.mode === 'async') {
      if (Date.now() > deadline) throw stillRunning();
      await sleep(200);
      continue;
    }
    // A claim older than any hold can live was left by a process that died mid-request. One replay
    // alone takes it over (its age renewed, as a fresh claim's): replays racing on it would each
    // settle it and answer their own result; the others wait for that one's, as for any claim running.
    const staleBefore = new Date(Date.now() - opts.staleAfterMs);
    if (prior.createdAt < staleBefore) {
      const [taken] = await db
        .update(enhancementRequests)
        .set({ createdAt: sql`now()` })
        .where(and(eq(enhancementRequests.id, prior.id), eq(enhancementRequests.status, 'processing'), lt(enhancementRequests.createdAt, staleBefore)))
        .returning({ reservationId: enhancementRequests.reservationId });
      if (taken) return { kind: 'interrupted', id: prior.id, reservationId: taken.reservationId };
      continue; // another replay took it over (or it settled): read it again
    }
    if (Date.now() > deadline) throw stillRunning();
    await sleep(200);
  }
}

/** Remembers the hold as soon as it exists, so an interrupted request can be settled later. */
export async function attachReservation(db: DbOrTx, id: number, reservationId: string): Promise<void> {
  await db.execute(attachStatement({ id, reservationId }));
}

/**
 * The one step that finalises an enhancement request (run or submitted): the stored result and its
 * webhook event (`enhancement.completed` or `enhancement.degraded`) commit together, so the event
 * exists exactly when the result does.
 */
export async function completeEnhancement(db: DbOrTx, id: number, reservationId: string | null, result: EnhanceResult): Promise<void> {
  const complete = async (tx: DbOrTx) => {
    const row = await queryOne(tx, completedRow, completeStatement({ id, status: result.status, result: JSON.stringify(result), reservationId }));
    if (!row) return;
    // The public id: what enhance.submit answered and enhance.get takes.
    await emitWebhookEvent(tx, {
      type: result.status === 'enhanced' ? 'enhancement.completed' : 'enhancement.degraded',
      data: { enhancementId: row.enhancement_id, userId: row.user_id, idempotencyKey: row.idempotency_key, result },
    });
  };
  // In a caller's transaction (finalising) the two already commit together: no savepoint, which
  // would only matter to a caller that caught an error and carried on.
  await inTransaction(db, complete);
}

/** A refused request (no credits) records no result: the same key may be retried after an upgrade. */
export async function releaseClaim(db: DbOrTx, id: number): Promise<void> {
  await db.delete(enhancementRequests).where(eq(enhancementRequests.id, id));
}
