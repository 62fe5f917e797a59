import { eq, sql } from 'drizzle-orm';
import type { AppDeps } from '../app-deps';
import type { JobDefinition, JobMode, JobTrigger } from './job-definition';
import { jobRuns } from './tables';

export type RunMeta = { jobId: string | null; attempt: number; trigger: JobTrigger; mode: JobMode; worker: string };

/** Runs a handler and records the run (start, duration, outcome, error); rethrows so the runner can retry. */
export async function runRecorded(deps: AppDeps, def: JobDefinition, payload: unknown, meta: RunMeta): Promise<unknown> {
  const db = deps.dbHandle.db;
  const [run] = await db
    .insert(jobRuns)
    .values({ jobName: def.name, jobId: meta.jobId, attempt: meta.attempt, trigger: meta.trigger, mode: meta.mode, worker: meta.worker })
    .returning({ id: jobRuns.id });
  const started = performance.now();
  try {
    const result = await def.run(deps, payload);
    await db
      .update(jobRuns)
      .set({ status: 'succeeded', finishedAt: sql`now()`, durationMs: Math.round(performance.now() - started), result: (result ?? null) as never })
      .where(eq(jobRuns.id, run!.id));
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await db
      .update(jobRuns)
      .set({ status: 'failed', finishedAt: sql`now()`, durationMs: Math.round(performance.now() - started), error: message.slice(0, 2000) })
      .where(eq(jobRuns.id, run!.id));
    deps.log.error({ err, job: def.name, attempt: meta.attempt }, 'job failed');
    throw err;
  }
}

export async function deleteOldJobRuns(db: AppDeps['dbHandle']['db'], days: number): Promise<number> {
  const gone = await db.delete(jobRuns).where(sql`${jobRuns.startedAt} < now() - make_interval(days => ${days})`).returning({ id: jobRuns.id });
  return gone.length;
}
