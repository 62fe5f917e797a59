import { and, eq, sql } from 'drizzle-orm';
import type { EnhanceInput, EnhanceResult } from '../../shared/enhance';
import type { EnhanceGetResult, EnhanceSubmitResult, EnhancementFailure } from '../../shared/enhance-async';
import { DomainError } from '../errors';
import { idempotencyConflict } from '../ledger/errors';
import { requestHash } from '../ledger/request-hash';
import { reserveCredits } from '../ledger/reserve-credits';
import { MAX_HOLD_SECONDS, type GatewayDeps } from './gateway';
import { candidateProviders } from './registry';
import { enhancementRequests } from './tables';
import { ProviderError } from './types';
import { assertFetchableUrl } from './url-policy';

/** Time allowed for submitted work to wait in the queue before its first attempt extends the hold. */
export const QUEUE_ALLOWANCE_SECONDS = 300;

/** The job that runs one submitted enhancement (server/jobs/definitions.ts). */
export const ENHANCE_JOB = 'enhance-submitted';

type Enqueue = (enhancementId: string) => Promise<unknown>;

const enhanceHash = (input: EnhanceInput) =>
  requestHash('enhance', { userId: input.userId, inputImageUrl: input.inputImageUrl, enhancementType: input.enhancementType, moodboardId: input.moodboardId });

/**
 * enhance.submit: the request row (status `queued`, the input) and its one-credit hold are written in
 * one transaction — the row is the outbox — and the job is enqueued after commit. A process dying
 * in between loses nothing: the sweeper enqueues queued rows nobody took. A replayed key answers the
 * same enhancementId and charges nothing more; the same key with another input, or from another
 * API key, is IDEMPOTENCY_CONFLICT. A user who cannot pay is refused here, as enhance.run refuses.
 */
export async function submitEnhancement(deps: GatewayDeps, enqueue: Enqueue, input: EnhanceInput, caller: { apiKeyId: string }): Promise<EnhanceSubmitResult> {
  try {
    await assertFetchableUrl(input.inputImageUrl, deps.urlPolicy);
  } catch (err) {
    if (err instanceof ProviderError) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `inputImageUrl: ${err.message}`);
    throw err;
  }
  const hash = enhanceHash(input);
  const candidates = await candidateProviders(deps.db);
  const ttlSeconds = Math.min(MAX_HOLD_SECONDS, QUEUE_ALLOWANCE_SECONDS + Math.ceil(candidates.reduce((s, c) => s + c.timeout_ms, 0) / 1000) + deps.holdGraceSeconds);

  const created = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(enhancementRequests)
      .values({ idempotencyKey: input.idempotencyKey, requestHash: hash, userId: input.userId, status: 'queued', mode: 'async', input, apiKeyId: caller.apiKeyId })
      .onConflictDoNothing({ target: enhancementRequests.idempotencyKey })
      .returning({ id: enhancementRequests.id, enhancementId: enhancementRequests.enhancementId });
    if (!row) return null;
    try {
      const hold = await reserveCredits(tx, {
        userId: input.userId,
        credits: 1,
        enhancementType: input.enhancementType,
        idempotencyKey: `enhance:${input.idempotencyKey}:${row.id}`,
        ttlSeconds,
        moodboardId: input.moodboardId,
        apiKeyId: caller.apiKeyId,
      });
      await tx.update(enhancementRequests).set({ reservationId: hold.reservationId }).where(eq(enhancementRequests.id, row.id));
    } catch (err) {
      // Past the allowance with no pool to pay: queued without a hold, the worker degrades it (as enhance.run does).
      if (!(err instanceof DomainError && err.reason === 'PLATFORM_CREDITS_DEPLETED')) throw err;
    }
    return row;
  });

  if (!created) {
    const [prior] = await deps.db.select().from(enhancementRequests).where(eq(enhancementRequests.idempotencyKey, input.idempotencyKey));
    // Another key's idempotency key does not reveal its enhancement; an enhance.run under this key has no public id to give.
    if (!prior || prior.requestHash !== hash || prior.mode !== 'async' || prior.apiKeyId !== caller.apiKeyId) throw idempotencyConflict();
    return { enhancementId: prior.enhancementId, status: publicStatus(prior.status) };
  }
  await enqueue(created.enhancementId).catch((err: unknown) =>
    // Committed: the sweeper enqueues it within a minute.
    deps.log.warn({ err, enhancementId: created.enhancementId }, 'enqueueing a submitted enhancement failed; the sweeper will pick it up'),
  );
  return { enhancementId: created.enhancementId, status: 'queued' };
}

const publicStatus = (status: string): EnhanceSubmitResult['status'] => (status === 'processing' ? 'running' : (status as EnhanceSubmitResult['status']));

/**
 * enhance.get: an enhancement submitted by the calling API key (another key's is NOT_FOUND, as if it
 * did not exist): `queued` / `running`, or the stored result.
 */
export async function getEnhancement(deps: Pick<GatewayDeps, 'db'>, enhancementId: string, caller: { apiKeyId: string }): Promise<EnhanceGetResult> {
  const [row] = await deps.db
    .select({ status: enhancementRequests.status, result: enhancementRequests.result })
    .from(enhancementRequests)
    .where(and(eq(enhancementRequests.enhancementId, enhancementId), eq(enhancementRequests.mode, 'async'), eq(enhancementRequests.apiKeyId, caller.apiKeyId)));
  if (!row) throw new DomainError('NOT_FOUND', 'NOT_FOUND', 'No enhancement with that id was submitted with this API key.');
  if (row.status === 'queued' || row.status === 'running') return { status: row.status, enhancementId };
  return row.result as EnhanceResult | EnhancementFailure;
}

/** Queued rows older than this with no worker, or running rows whose lease ran out, are enqueued again. */
const QUEUED_GRACE_SECONDS = 30;

/**
 * The sweeper: submitted work whose job vanished (enqueue lost between commit and enqueue, Redis
 * emptied, a worker killed mid-task) is enqueued again. Duplicate jobs are harmless: the worker's
 * lease lets one of them work.
 */
export async function sweepSubmittedEnhancements(deps: Pick<GatewayDeps, 'db'>, enqueue: Enqueue, opts: { queuedGraceSeconds?: number } = {}): Promise<number> {
  const grace = opts.queuedGraceSeconds ?? QUEUED_GRACE_SECONDS;
  const rows = await deps.db
    .select({ enhancementId: enhancementRequests.enhancementId })
    .from(enhancementRequests)
    .where(
      sql`${enhancementRequests.status} in ('queued','running') and ${enhancementRequests.mode} = 'async' and (
        (${enhancementRequests.status} = 'queued' and ${enhancementRequests.createdAt} < now() - make_interval(secs => ${grace}))
        or (${enhancementRequests.status} = 'running' and ${enhancementRequests.leaseUntil} < now()))`,
    )
    .limit(500);
  for (const r of rows) await enqueue(r.enhancementId);
  return rows.length;
}
