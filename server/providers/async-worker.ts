import { createHash, randomBytes } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { CreditSource } from '../../shared/credits';
import { enhanceInputSchema, type EnhanceInput } from '../../shared/enhance';
import { extendReservation } from '../ledger/release-reservation';
import { refundToPool } from '../pools/draw';
import { creditReservations } from '../ledger/tables';
import { attemptProvider, type AsyncAttempt } from './attempt';
import { PLATFORM_DEPLETED_REASON } from './degrade';
import { OPEN_STATUSES } from './enhancement-claims';
import { finaliseEnhancement, type Settlement } from './finalise';
import type { GatewayDeps } from './gateway';
import { checkInputImage, type InputImage } from './input-image';
import { candidateProviders } from './registry';
import { enhancementRequests } from './tables';
import { ProviderError, type ProviderTask } from './types';

/** What a submitted enhancement keeps of the attempt in flight (enhancement_requests.provider_task). */
export type StoredAttempt = { provider: string; costUsd: string | null; task: ProviderTask | null };

type Row = typeof enhancementRequests.$inferSelect;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Takes submitted work: a queued row, or a running one whose worker stopped renewing its lease. */
async function claimLease(deps: GatewayDeps, enhancementId: string): Promise<Row | undefined> {
  const [row] = await deps.db
    .update(enhancementRequests)
    .set({ status: 'running', leaseUntil: sql`now() + make_interval(secs => ${deps.asyncLeaseSeconds})` })
    .where(
      sql`${enhancementRequests.enhancementId} = ${enhancementId} and ${enhancementRequests.mode} = 'async'
          and (${enhancementRequests.status} = 'queued' or (${enhancementRequests.status} = 'running' and ${enhancementRequests.leaseUntil} < now()))`,
    )
    .returning();
  return row;
}

/**
 * Renews the lease while this worker works, and notices when someone else settled the row (a
 * provider callback): then `settled` aborts and the attempt in flight stops polling.
 */
function keepLease(deps: GatewayDeps, id: number) {
  const settled = new AbortController();
  const every = Math.max(200, Math.min(1000, (deps.asyncLeaseSeconds * 1000) / 3));
  const timer = setInterval(() => {
    void deps.db
      .update(enhancementRequests)
      .set({ leaseUntil: sql`now() + make_interval(secs => ${deps.asyncLeaseSeconds})` })
      .where(sql`${enhancementRequests.id} = ${id} and ${enhancementRequests.status} = 'running'`)
      .returning({ id: enhancementRequests.id })
      .then((rows) => {
        if (rows.length === 0) settled.abort(new DOMException('settled elsewhere', 'AbortError'));
      })
      .catch((err: unknown) => deps.log.warn({ err, id }, 'renewing an enhancement lease failed'));
  }, every);
  return { settled: settled.signal, stop: () => clearInterval(timer) };
}

/**
 * Runs one submitted enhancement on a job worker: the input checked, the providers tried in the
 * gateway's order (each at most once across restarts: failures are recorded on the row), each attempt
 * extending the hold by its timeout plus the grace before it begins, its pool draw and task persisted
 * as they happen — so a worker that takes the work over after a restart resumes the task in flight
 * instead of paying for another. Ends through finaliseEnhancement, as enhance.run does.
 */
export async function processSubmittedEnhancement(deps: GatewayDeps, enhancementId: string): Promise<string> {
  const row = await claimLease(deps, enhancementId);
  if (!row) return 'not claimable (settled, or another worker holds it)';
  const lease = keepLease(deps, row.id);
  try {
    return await work(deps, row, lease.settled);
  } catch (err) {
    // Let the job's retry (or the sweeper) take it over at once.
    await deps.db
      .update(enhancementRequests)
      .set({ leaseUntil: sql`now()` })
      .where(sql`${enhancementRequests.id} = ${row.id} and ${enhancementRequests.status} = 'running'`);
    throw err;
  } finally {
    lease.stop();
  }
}

async function work(deps: GatewayDeps, row: Row, settled: AbortSignal): Promise<string> {
  const input: EnhanceInput = enhanceInputSchema.parse(row.input);
  const hold = row.reservationId ? { reservationId: row.reservationId, source: await holdSource(deps, row.reservationId) } : null;
  const finalise = async (image: InputImage | null, outcome: Settlement) => {
    const done = await finaliseEnhancement(deps, { claimId: row.id, input, image, hold }, outcome);
    return done.settledNow ? `settled: ${done.result.status}` : 'already settled';
  };

  let image: InputImage;
  try {
    image = await checkInputImage(input.inputImageUrl, deps.urlPolicy);
  } catch (err) {
    if (err instanceof ProviderError) return finalise(null, { kind: 'refused', message: err.message });
    throw err;
  }
  if (!hold) return finalise(image, { kind: 'unserved', reason: PLATFORM_DEPLETED_REASON, cause: 'platform_depleted' });

  const failures = [...((row.failures as string[] | null) ?? [])];
  const tried = new Set(failures.map((f) => f.slice(0, f.indexOf(':'))));
  let inFlight = (row.providerTask as StoredAttempt | null) ?? null;
  const candidates = await candidateProviders(deps.db);
  if (inFlight && !candidates.some((c) => c.name === inFlight!.provider)) {
    // Its provider was deactivated while no worker held the work: the task is abandoned, its draw
    // returned. The refund and the row forgetting the task commit together: a retry after a failed
    // update would otherwise find the task still in flight and refund its draw a second time.
    const { provider, costUsd } = inFlight;
    failures.push(`${provider}: deactivated while its task ran`);
    tried.add(provider);
    inFlight = null;
    await deps.db.transaction(async (tx) => {
      if (costUsd !== null) await refundToPool(tx, provider, 1, { reservationId: hold.reservationId, reason: 'the provider was deactivated mid-task' });
      await tx.update(enhancementRequests).set({ failures, providerTask: null, callbackTokenHash: null }).where(eq(enhancementRequests.id, row.id));
    });
  }
  const order = inFlight ? [...candidates.filter((c) => c.name === inFlight!.provider), ...candidates.filter((c) => c.name !== inFlight!.provider)] : candidates;

  for (const provider of order) {
    if (tried.has(provider.name)) continue;
    const resumed = inFlight?.provider === provider.name ? inFlight : null;
    inFlight = null;
    if (!(await extendReservation(deps.db, hold.reservationId, Math.ceil(provider.timeout_ms / 1000) + deps.holdGraceSeconds))) {
      // Past its expiry the credit is back with the user: nothing may be charged, so nothing more is tried.
      return finalise(image, { kind: 'unserved', reason: 'the hold expired before a provider could serve; nothing was charged' });
    }
    const token = randomBytes(32).toString('base64url');
    const callbackUrl = `${deps.callbackBase}/${encodeURIComponent(provider.name)}/${row.enhancementId}?token=${token}`;
    const attempt: AsyncAttempt = {
      // A resumed task was given the earlier worker's URL; that one's token hash stays on the row.
      callbackUrl: resumed ? null : callbackUrl,
      resumed: resumed ? { costUsd: resumed.costUsd, task: resumed.task } : null,
      onDrawn: async (db, costUsd) => {
        const stored: StoredAttempt = { provider: provider.name, costUsd, task: null };
        await db
          .update(enhancementRequests)
          .set({ providerTask: stored, callbackTokenHash: hashToken(token) })
          .where(eq(enhancementRequests.id, row.id));
      },
      onRefunded: async (tx) => {
        const open = await tx
          .update(enhancementRequests)
          .set({ providerTask: null, callbackTokenHash: null })
          .where(and(eq(enhancementRequests.id, row.id), inArray(enhancementRequests.status, [...OPEN_STATUSES])))
          .returning({ id: enhancementRequests.id });
        return open.length > 0;
      },
      onSubmitted: async (task) => {
        await deps.db
          .update(enhancementRequests)
          .set({ providerTask: sql`jsonb_set(${enhancementRequests.providerTask}, '{task}', ${JSON.stringify(task)}::jsonb)` })
          .where(eq(enhancementRequests.id, row.id));
      },
      settled,
    };
    const outcome = await attemptProvider(deps, provider, {
      imageUrl: input.inputImageUrl,
      image,
      enhancementType: input.enhancementType,
      // Stable across restarts: every call of this enhancement is recorded under its public id.
      requestId: row.enhancementId,
      reservationId: hold.reservationId,
      async: attempt,
    });
    if ('settledElsewhere' in outcome) return 'settled by the provider callback';
    if ('inputRefused' in outcome) return finalise(image, { kind: 'refused', message: outcome.inputRefused.message });
    if (outcome.ok) {
      return finalise(image, {
        kind: 'served',
        provider: provider.name,
        outputUrl: outcome.output.outputUrl,
        providerRequestId: outcome.output.providerRequestId,
        requestId: row.enhancementId,
        costUsd: outcome.costUsd,
      });
    }
    failures.push(`${provider.name}: ${outcome.reason}`);
    await deps.db.update(enhancementRequests).set({ failures, providerTask: null, callbackTokenHash: null }).where(eq(enhancementRequests.id, row.id));
  }
  const reason = failures.length ? failures.join('; ') : 'no active provider is configured';
  return finalise(image, { kind: 'unserved', reason });
}

async function holdSource(deps: GatewayDeps, reservationId: string): Promise<CreditSource> {
  const [r] = await deps.db.select({ source: creditReservations.source }).from(creditReservations).where(eq(creditReservations.id, reservationId));
  return (r?.source ?? 'user_credits') as CreditSource;
}
