import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Every run of every job, whichever runner ran it: the Jobs page reads last runs and errors here. */
export const jobRuns = pgTable(
  'job_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobName: text('job_name').notNull(),
    jobId: text('job_id'),
    attempt: integer('attempt').notNull().default(1),
    trigger: text('trigger').notNull(),
    mode: text('mode').notNull(),
    status: text('status').notNull().default('running'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    durationMs: integer('duration_ms'),
    error: text('error'),
    result: jsonb('result'),
    /** The payload the run was given, so a retry by hand runs with the same input (null before it was kept). */
    payload: jsonb('payload'),
    worker: text('worker'),
  },
  (t) => [
    check('job_runs_status_check', sql`${t.status} in ('running','succeeded','failed')`),
    check('job_runs_trigger_check', sql`${t.trigger} in ('schedule','manual','retry','demand')`),
    index('job_runs_name_idx').on(t.jobName, t.startedAt.desc()),
    index('job_runs_job_idx').on(t.jobId),
  ],
);
