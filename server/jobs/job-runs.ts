import { jobRuns as jobRunsTotal } from '../ops/metrics';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { AppDeps } from '../app-deps';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import type { JobDefinition, JobTrigger } from './job-definition';
import type { JobMode } from './runner';
import { jobRuns } from './tables';

export type RunMeta = { jobId: string | null; attempt: number; trigger: JobTrigger; mode: JobMode; worker: string };

/** Runs a handler and records the run (start, duration, outcome, error); rethrows so the runner can retry. */
export async function runRecorded(deps: AppDeps, def: JobDefinition, payload: unknown, meta: RunMeta): Promise<unknown> {
  const db = deps.dbHandle.db;
  const [run] = await db
    .insert(jobRuns)
    .values({
      jobName: def.name,
      jobId: meta.jobId,
      attempt: meta.attempt,
      trigger: meta.trigger,
      mode: meta.mode,
      worker: meta.worker,
      payload: payload ?? null,
    })
    .returning({ id: jobRuns.id });
  const started = performance.now();
  try {
    const result = await def.run(deps, payload);
    // Whatever the job committed (resets, expiries, alerts, health checks) reaches the live streams now.
    deps.realtime.bus.changed();
    await db
      .update(jobRuns)
      .set({ status: 'succeeded', finishedAt: sql`now()`, durationMs: Math.round(performance.now() - started), result: result ?? null })
      .where(eq(jobRuns.id, run!.id));
    jobRunsTotal.inc({ job: def.name, outcome: 'succeeded' });
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await db
      .update(jobRuns)
      .set({ status: 'failed', finishedAt: sql`now()`, durationMs: Math.round(performance.now() - started), error: message.slice(0, 2000) })
      .where(eq(jobRuns.id, run!.id));
    jobRunsTotal.inc({ job: def.name, outcome: 'failed' });
    deps.log.error({ err, job: def.name, attempt: meta.attempt }, 'job failed');
    throw err;
  }
}

/**
 * The last run of a job, when it failed: by run id (in-process) or by job id (BullMQ, whose ids
 * count per queue and start again after Redis loses its data, hence the newest run of one of this
 * runner's jobs). It holds the input to retry with.
 */
export async function lastFailedRun(db: DbOrTx, where: { runId: number } | { jobId: string; mode: JobMode; jobNames: string[] }) {
  const [run] = await db
    .select()
    .from(jobRuns)
    .where('runId' in where ? eq(jobRuns.id, where.runId) : and(eq(jobRuns.jobId, where.jobId), eq(jobRuns.mode, where.mode), inArray(jobRuns.jobName, where.jobNames)))
    .orderBy(desc(jobRuns.startedAt), desc(jobRuns.id))
    .limit(1);
  return run?.status === 'failed' ? run : undefined;
}

/**
 * A retry runs with the input the failed run had, re-parsed by the job's schema (which may have
 * changed since). Runs recorded before payloads were kept have none: those get `{}`, as before.
 */
export function retryPayload(def: JobDefinition, stored: unknown): unknown {
  const parsed = def.payload.safeParse(stored ?? {});
  if (!parsed.success) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The input of this ${def.name} run no longer matches the job's schema.`);
  return parsed.data;
}

export async function deleteOldJobRuns(db: AppDeps['dbHandle']['db'], days: number): Promise<number> {
  const gone = await db
    .delete(jobRuns)
    .where(sql`${jobRuns.startedAt} < now() - make_interval(days => ${days})`)
    .returning({ id: jobRuns.id });
  return gone.length;
}
