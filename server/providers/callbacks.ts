import { timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq, sql } from 'drizzle-orm';
import type { CreditSource } from '../../shared/credits';
import { enhanceInputSchema } from '../../shared/enhance';
import { queryRows } from '../db/rows';
import { creditReservations } from '../ledger/tables';
import { hashToken, type StoredAttempt } from './async-worker';
import { OPEN_STATUSES } from './enhancement-claims';
import { finaliseEnhancement } from './finalise';
import type { GatewayDeps } from './gateway';
import { recordCall } from './provider-calls';
import { candidateRow } from './registry';
import { enhancementRequests } from './tables';

export type CallbackAnswer = { status: number; detail: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Compares the presented token with the stored hash in constant time (both are SHA-256 digests). */
function tokenMatches(token: string | undefined, storedHash: string | null): boolean {
  if (!token || !storedHash) return false;
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

const TASK_WAIT_MS = 3_000;

async function recordedAttempt(deps: GatewayDeps, id: number, attempt: StoredAttempt | null): Promise<StoredAttempt | null> {
  const deadline = Date.now() + TASK_WAIT_MS;
  while (attempt && !attempt.task && Date.now() < deadline) {
    await sleep(100);
    const [row] = await deps.db.select({ providerTask: enhancementRequests.providerTask }).from(enhancementRequests).where(eq(enhancementRequests.id, id));
    attempt = (row?.providerTask as StoredAttempt | null) ?? null;
  }
  return attempt;
}

/**
 * `POST /callbacks/:provider/:enhancementId?token=…`: a provider reports a task of submitted work.
 * Only the attempt in flight can be settled, by its own per-attempt token (stored hashed, compared in
 * constant time), checked again under the row's lock when it settles; an unknown or settled
 * enhancement, a wrong token, another provider or another task (one the row no longer holds: its
 * attempt failed and its draw was refunded) changes nothing. A success settles through
 * finaliseEnhancement (the poll racing it then finds it settled); a failure is left to the poll,
 * which refunds the pool and tries the next provider.
 */
export async function settleFromCallback(deps: GatewayDeps, p: { provider: string; enhancementId: string; token: string | undefined; body: unknown }): Promise<CallbackAnswer> {
  if (!UUID.test(p.enhancementId)) return { status: 404, detail: 'unknown enhancement' };
  const [row] = await deps.db.select().from(enhancementRequests).where(eq(enhancementRequests.enhancementId, p.enhancementId));
  if (!row || row.mode !== 'async') return { status: 404, detail: 'unknown enhancement' };
  if (!tokenMatches(p.token, row.callbackTokenHash)) return { status: 401, detail: 'wrong or missing token' };
  if (row.status !== 'running' && row.status !== 'queued') return { status: 200, detail: 'already settled' };
  // A fast provider can call back before the worker has recorded the task id its submit answered.
  const attempt = await recordedAttempt(deps, row.id, row.providerTask as StoredAttempt | null);
  if (!attempt || attempt.provider !== p.provider) return { status: 409, detail: 'not the attempt in flight' };
  if (!attempt.task || !row.reservationId) return { status: 503, detail: 'the task is not recorded yet; call back again' };

  const [provider] = await queryRows(
    deps.db,
    candidateRow,
    sql`select name, kind, base_url, api_key_encrypted, model, health_check_url, rate_limit_per_minute, timeout_ms, updated_at::text, null as pool_balance
        from api_providers where name = ${attempt.provider}`,
  );
  const state = provider ? (deps.registry.adapterFor(provider).parseCallback?.(attempt.task, p.body) ?? null) : null;
  if (!state) return { status: 400, detail: 'the callback does not describe this task' };
  if (state.state !== 'done') return { status: 202, detail: 'noted; the poll settles it' };

  const [hold] = await deps.db.select({ source: creditReservations.source }).from(creditReservations).where(eq(creditReservations.id, row.reservationId));
  const { task } = attempt;
  const reservationId = row.reservationId;
  const done = await deps.db.transaction(async (tx) => {
    // Checked again under the row's lock, the lock the worker's refund takes: since the checks above
    // the attempt may have failed, its draw been refunded and the row forgotten its task (or moved on
    // to the next provider's). Settled then, the capture would be paid with a draw the pool got back.
    const [locked] = await tx
      .select({ status: enhancementRequests.status, callbackTokenHash: enhancementRequests.callbackTokenHash, providerTask: enhancementRequests.providerTask })
      .from(enhancementRequests)
      .where(eq(enhancementRequests.id, row.id))
      .for('update');
    if (!locked || !OPEN_STATUSES.includes(locked.status)) return 'settled' as const;
    const held = locked.providerTask as StoredAttempt | null;
    if (!tokenMatches(p.token, locked.callbackTokenHash) || held?.provider !== attempt.provider || held.task?.taskId !== task.taskId) return 'superseded' as const;
    return finaliseEnhancement(
      { ...deps, db: tx },
      { claimId: row.id, input: enhanceInputSchema.parse(row.input), image: null, hold: { reservationId, source: (hold?.source ?? 'user_credits') as CreditSource } },
      { kind: 'served', provider: held.provider, outputUrl: state.outputUrl, providerRequestId: task.taskId, requestId: row.enhancementId, costUsd: held.costUsd ?? '0.000000' },
    );
  });
  if (done === 'superseded') return { status: 409, detail: 'not the attempt in flight' };
  if (done === 'settled' || !done.settledNow) return { status: 200, detail: 'already settled' };
  await recordCall(deps.db, { provider: attempt.provider, requestId: row.enhancementId, reservationId: row.reservationId, outcome: 'success', providerRequestId: attempt.task.taskId }).catch(
    (err: unknown) => deps.log.error({ err, enhancementId: row.enhancementId }, 'recording a served provider callback failed'),
  );
  return { status: 200, detail: 'settled' };
}
