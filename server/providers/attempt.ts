import { setTimeout as sleep } from 'node:timers/promises';
import type { EnhancementType } from '../../shared/credits';
import type { Logger } from 'pino';
import type { Db, DbOrTx } from '../db/client';
import { drawFromPool, refundToPool, type PoolDraw } from '../pools/draw';
import type { CircuitBreaker } from './circuit-breaker';
import { inputRefusal, type InputImage, type InputImageError } from './input-image';
import { recordCall } from './provider-calls';
import type { ProviderRateLimiter } from './rate-limit';
import type { CandidateRow, ProviderRegistry } from './registry';
import { ProviderError, type EnhanceResult, type ProviderTask } from './types';

export type AttemptDeps = {
  db: Db;
  registry: ProviderRegistry;
  breaker: CircuitBreaker;
  rateLimiter: ProviderRateLimiter;
  log: Logger;
  /** The breaker's clock (tests inject one to step past cool-downs). */
  now: () => number;
  /** The wait before the one retry of a transient failure: jittered, so retries from many requests spread out. */
  retryDelayMs: () => number;
};

/** 100–300 ms. */
export const jitteredRetryDelay = () => 100 + Math.floor(Math.random() * 200);

/**
 * A failure worth one more try on the same provider: the connection broke, or a gateway in front of
 * the provider answered 502/503 without telling us how long to wait (with Retry-After, we wait).
 */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof ProviderError)) return false;
  if (err.kind === 'network') return true;
  return err.kind === 'http' && (err.httpStatus === 502 || err.httpStatus === 503) && err.retryAfterMs === null;
}
export type AttemptContext = {
  imageUrl: string;
  image?: InputImage;
  enhancementType: EnhancementType;
  requestId: string;
  reservationId: string;
  async?: AsyncAttempt;
  /** Admitted (and rate-limited) before the hold by `admitAhead`, and drawn by the hold's statement when it could. */
  ahead?: Ahead;
};

/** A first attempt begun before the hold: its admission, and the draw the opening statement made (null: draw as usual). */
export type Ahead = { admission: Admission; drawn: PoolDraw | null };
type Admission = Awaited<ReturnType<CircuitBreaker['admit']>>;

/** enhance.submit's attempts: they outlive a process, so their draw and task are persisted as they happen. */
export type AsyncAttempt = {
  /** Where the provider calls back (providers that do); null: the poll alone settles. */
  callbackUrl: string | null;
  /** Begun by a worker that is gone: its pool draw stands (cost), and its task, when one was submitted, is polled. */
  resumed: { costUsd: string | null; task: ProviderTask | null } | null;
  /**
   * Records the draw's cost on the row before the provider is called, so a restart never draws
   * again. Given the draw's own transaction when there is a draw: the two commit together, so no
   * crash can leave a draw the row does not know of (and that a worker taking over would never refund).
   */
  onDrawn: (db: DbOrTx, costUsd: string | null) => Promise<void>;
  /**
   * Called first in the transaction that refunds the draw, under the row's lock (the lock a
   * settlement takes): the row forgets the task in the same commit, so a worker taking the work over
   * after a failed write never resumes on (nor refunds again) a draw that was returned. False when a
   * provider callback settled the work already: its capture paid with this draw, which then stands.
   */
  onRefunded: (tx: DbOrTx) => Promise<boolean>;
  onSubmitted: (task: ProviderTask) => Promise<void>;
  /** Aborts when a provider callback settled the enhancement: the attempt stops without counting against the provider. */
  settled: AbortSignal;
};
export type AttemptOutcome =
  | { ok: true; output: EnhanceResult; costUsd: string }
  | { ok: false; reason: string; attempted: boolean }
  /** A callback settled the enhancement while this attempt polled: nothing more to do or refund. */
  | { ok: false; reason: string; attempted: true; settledElsewhere: true }
  /** The caller's input was refused: no other provider would do better, and this one did not fail. */
  | { ok: false; reason: string; attempted: true; inputRefused: InputImageError };

const LOCAL_KIND = 'local';

/**
 * The first attempt's admission and rate limit, taken before the hold so that the hold's own
 * statement can draw this provider's pool (open-enhancement). Null when the attempt would be skipped
 * or pays no pool: it then runs, and records its skip, as any other. An admission the hold does not
 * use is handed back (`breaker.onNeutral`).
 */
export async function admitAhead(deps: AttemptDeps, row: CandidateRow): Promise<Admission | null> {
  if (row.kind === LOCAL_KIND || row.pool_balance === null || row.pool_balance < 1) return null;
  const taken = await admitAndTake(deps, row);
  return 'admission' in taken ? taken.admission : null;
}

/**
 * The circuit's admission (one Redis step: its state and, after a cool-down, the one trial) and the
 * provider's minute, asked together: one round trip of waiting instead of two on every attempt.
 * Whatever one of them grants that the other refuses is handed back — the minute's request when the
 * circuit is open, the trial when the minute is spent — so a refused attempt leaves both as they were.
 */
async function admitAndTake(deps: AttemptDeps, row: CandidateRow): Promise<{ admission: Admission } | { refused: string }> {
  const [admission, taken] = await Promise.all([deps.breaker.admit(row.name, deps.now()), deps.rateLimiter.tryTake(row.name, row.rate_limit_per_minute)]);
  if (admission === 'open') {
    if (taken) await deps.rateLimiter.giveBack(row.name, row.rate_limit_per_minute);
    return { refused: 'circuit open' };
  }
  if (taken) return { admission };
  await deps.breaker.onNeutral(row.name, admission);
  return { refused: 'rate limit reached' };
}

/**
 * The attempt's pool draw. Not in a transaction of ours for enhance.run: the common draw is one
 * statement, and drawFromPool opens one when it needs more. Submitted work (async) draws in the
 * transaction that records the draw on its row: a crash between two commits would leave a draw that
 * no worker knows of, drawn again by the one taking over and never refunded. A record that fails
 * rolls the draw back with it.
 */
async function drawRecorded(deps: AttemptDeps, provider: string, ctx: AttemptContext): Promise<PoolDraw | null> {
  const ref = { reservationId: ctx.reservationId };
  const onDrawn = ctx.async?.onDrawn;
  if (!onDrawn) return drawFromPool(deps.db, provider, 1, ref);
  return deps.db.transaction(async (tx) => {
    const drawn = await drawFromPool(tx, provider, 1, ref);
    if (drawn) await onDrawn(tx, drawn.costUsd);
    return drawn;
  });
}

/**
 * One provider, once: skipped when its pool cannot pay, its circuit is open (a failed health check
 * opens it too; after the cool-down, open to all but the one trial request) or its minute is used
 * up; otherwise its pool is drawn before the call (so concurrent requests cannot overspend it) and
 * refunded if the call fails. A transient failure is called again
 * once after a jittered pause, inside the same deadline and on the same draw, so a retry never pays
 * twice; the breaker hears the attempt's outcome once. A Retry-After on a 429/503 keeps the circuit
 * open at least that long. Every call and skip is recorded. Only the provider call itself can fail
 * the attempt: once it has served, the bookkeeping after it never refunds or retries elsewhere.
 */
export async function attemptProvider(deps: AttemptDeps, row: CandidateRow, ctx: AttemptContext): Promise<AttemptOutcome> {
  const skip = async (reason: string): Promise<AttemptOutcome> => {
    await recordCall(deps.db, { provider: row.name, requestId: ctx.requestId, reservationId: ctx.reservationId, outcome: 'skipped', reason });
    return { ok: false, reason, attempted: false };
  };
  const paysFromPool = row.kind !== LOCAL_KIND;
  const resumed = ctx.async?.resumed ?? null;
  let drawn: Pick<PoolDraw, 'costUsd'> | null = null;
  let admission: Admission = 'closed';
  /** Returns the draw; false (nothing returned) when a provider callback settled the async work with it. */
  const refund = async (reason: string): Promise<boolean> => {
    if (!drawn) return true;
    return deps.db.transaction(async (tx) => {
      if (ctx.async && !(await ctx.async.onRefunded(tx))) return false;
      await refundToPool(tx, row.name, 1, { reservationId: ctx.reservationId, reason });
      return true;
    });
  };
  const settledElsewhere: AttemptOutcome = { ok: false, reason: 'settled by the provider callback', attempted: true, settledElsewhere: true };
  if (resumed) {
    // Admitted, rate-limited and drawn by the worker that began it: only the call goes on.
    drawn = paysFromPool ? { costUsd: resumed.costUsd ?? '0.000000' } : null;
  } else {
    const handBack = () => deps.breaker.onNeutral(row.name, admission);
    if (ctx.ahead) {
      admission = ctx.ahead.admission;
      drawn = ctx.ahead.drawn;
    } else {
      if (paysFromPool && (row.pool_balance === null || row.pool_balance < 1)) return skip('its credit pool cannot pay');
      // Admitted first: whatever stops the attempt below hands a trial back (a skip, or a draw that
      // throws with the database away), so nothing is drawn for a request the circuit turns away and
      // no trial is left to time out.
      const taken = await admitAndTake(deps, row);
      if ('refused' in taken) return skip(taken.refused);
      admission = taken.admission;
    }
    if (paysFromPool && !drawn) {
      drawn = await drawRecorded(deps, row.name, ctx).catch(async (err: unknown) => {
        await handBack();
        throw err;
      });
      if (!drawn) {
        await handBack();
        return skip('its credit pool cannot pay');
      }
    } else if (ctx.async) {
      // Nothing drawn here (a local provider, or a draw made before this attempt): recorded alone.
      await ctx.async.onDrawn(deps.db, drawn?.costUsd ?? null).catch(async (err: unknown) => {
        // Not recorded on the row, a worker taking the work over would draw again: a draw goes back
        // now, and nothing is called for it.
        await handBack();
        await refund('the draw could not be recorded').catch((e: unknown) =>
          deps.log.error({ err: e, provider: row.name, reservationId: ctx.reservationId }, 'refunding an unrecorded pool draw failed'),
        );
        throw err;
      });
    }
  }

  // One deadline for the call and its retry: the hold was sized from the providers' timeouts. An
  // async attempt also stops when a callback settled the enhancement.
  const deadline = ctx.async ? AbortSignal.any([AbortSignal.timeout(row.timeout_ms), ctx.async.settled]) : AbortSignal.timeout(row.timeout_ms);
  // The task this attempt submitted: the retry below polls it again rather than paying for a second one.
  let submitted: ProviderTask | null = resumed?.task ?? null;
  const call = async () => {
    const started = performance.now();
    try {
      const output = await deps.registry.adapterFor(row).enhanceImage({
        imageUrl: ctx.imageUrl,
        image: ctx.image,
        enhancementType: ctx.enhancementType,
        requestId: ctx.requestId,
        signal: deadline,
        task: {
          callbackUrl: ctx.async?.callbackUrl ?? null,
          resume: submitted,
          onSubmitted: async (task) => {
            submitted = task;
            await ctx.async?.onSubmitted(task);
          },
        },
      });
      return { output, latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      return { error, latencyMs: Math.round(performance.now() - started) };
    }
  };

  let result = await call();
  if ('error' in result && isTransient(result.error)) {
    // Logged, not thrown: the pool is still drawn for this attempt and must be settled below.
    await recordCall(deps.db, { provider: row.name, requestId: ctx.requestId, reservationId: ctx.reservationId, outcome: 'failure', latencyMs: result.latencyMs, error: result.error }).catch(
      (err: unknown) => deps.log.error({ err, provider: row.name, requestId: ctx.requestId }, 'recording a retried provider call failed'),
    );
    const waited = await sleep(deps.retryDelayMs(), true, { signal: deadline }).catch(() => false);
    if (waited) result = await call();
  }
  if ('error' in result && ctx.async?.settled.aborted) {
    // Not the provider's failure: its callback got there first and settled the enhancement (pool draw included).
    return settledElsewhere;
  }
  if ('error' in result) {
    const { error, latencyMs } = result;
    const refused = inputRefusal(error);
    // Refunded first: a callback may have settled the work before the lease noticed, and then the
    // draw is what its capture paid with (and the failure is not the provider's to count).
    if (!(await refund(refused ? 'the input image was refused' : 'the provider call failed'))) {
      await deps.breaker.onNeutral(row.name, admission);
      return settledElsewhere;
    }
    if (refused) {
      await deps.breaker.onNeutral(row.name, admission);
      await recordCall(deps.db, { provider: row.name, requestId: ctx.requestId, reservationId: ctx.reservationId, outcome: 'skipped', latencyMs, error: refused });
      return { ok: false, reason: refused.message, attempted: true, inputRefused: refused };
    }
    const now = deps.now();
    await deps.breaker.onFailure(row.name, admission, now);
    if (error instanceof ProviderError && error.retryAfterMs !== null) await deps.breaker.holdOff(row.name, now + error.retryAfterMs);
    await recordCall(deps.db, { provider: row.name, requestId: ctx.requestId, reservationId: ctx.reservationId, outcome: 'failure', latencyMs, error });
    return { ok: false, reason: error instanceof Error ? error.message : String(error), attempted: true };
  }
  const { output, latencyMs } = result;
  const served = { provider: row.name, requestId: ctx.requestId };
  await deps.breaker.onSuccess(row.name, admission).catch((err: unknown) => deps.log.error({ err, ...served }, 'recording a served call on the circuit failed'));
  await recordCall(deps.db, { ...served, reservationId: ctx.reservationId, outcome: 'success', latencyMs, providerRequestId: output.providerRequestId }).catch((err: unknown) =>
    deps.log.error({ err, ...served }, 'recording a served provider call failed'),
  );
  return { ok: true, output, costUsd: drawn?.costUsd ?? '0.000000' };
}
