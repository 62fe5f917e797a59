import { and, count, desc, eq, sql } from 'drizzle-orm';
import type { AppDeps } from '../app-deps';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';
import { z } from 'zod';
import { jobRuns } from './tables';

type RunRow = typeof jobRuns.$inferSelect;

export const toRunView = (r: RunRow) => ({
  id: String(r.id),
  jobName: r.jobName,
  jobId: r.jobId,
  attempt: r.attempt,
  trigger: r.trigger,
  mode: r.mode,
  status: r.status as 'running' | 'succeeded' | 'failed',
  startedAt: r.startedAt.toISOString(),
  finishedAt: r.finishedAt?.toISOString() ?? null,
  durationMs: r.durationMs,
  error: r.error,
  result: r.result,
});

/** Schedules with their next and last runs, failed jobs, and which runner the app uses. */
export async function jobOverview(deps: AppDeps) {
  const db = deps.dbHandle.db;
  const last = await queryRows(db, z.object({ id: col.integer }), sql`select distinct on (job_name) id from job_runs order by job_name, started_at desc`);
  const lastRuns = last.length
    ? await db
        .select()
        .from(jobRuns)
        .where(
          sql`${jobRuns.id} in (${sql.join(
            last.map((l) => sql`${l.id}`),
            sql`, `,
          )})`,
        )
    : [];
  const [schedules, failed] = await Promise.all([deps.jobs.schedules(), deps.jobs.failed()]);
  return {
    mode: deps.jobs.mode,
    timezone: deps.config.JOBS_TIMEZONE,
    jobs: schedules.map((s) => {
      const run = lastRuns.find((r) => r.jobName === s.name);
      return { ...s, lastRun: run ? toRunView(run) : null };
    }),
    failed,
  };
}

export async function listJobRuns(db: DbOrTx, input: { page: number; pageSize: number; jobName?: string; status?: string }) {
  const where = and(input.jobName ? eq(jobRuns.jobName, input.jobName) : undefined, input.status ? eq(jobRuns.status, input.status) : undefined);
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(jobRuns)
      .where(where)
      .orderBy(desc(jobRuns.startedAt))
      .limit(input.pageSize)
      .offset(input.page * input.pageSize),
    db.select({ n: count() }).from(jobRuns).where(where),
  ]);
  return { rows: rows.map(toRunView), total: total?.n ?? 0 };
}
