import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cron } from 'croner';
import { sql } from 'drizzle-orm';
import { col, queryRows } from '../db/rows';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import type { JobDefinition, JobTrigger } from './job-definition';
import { lastFailedRun, retryPayload, runRecorded } from './job-runs';
import { UnknownJobError, type FailedJobView, type JobRunner, type ScheduleView } from './runner';

/**
 * Without Redis: the same handlers on croner in this one process (`protect` skips an occurrence
 * while the previous one still runs), with the same retries and run records.
 */
export class InProcessRunner implements JobRunner {
  readonly mode = 'in-process' as const;
  private readonly crons: Cron[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly pendingIds = new Set<string>();
  /** What every handler gets: the process's services, with this runner as their `jobs`. */
  readonly deps: AppDeps;

  constructor(
    services: Omit<AppDeps, 'jobs'>,
    readonly definitions: JobDefinition[],
    private readonly retryDelayMs = 2_000,
  ) {
    this.deps = { ...services, jobs: this };
  }

  private definition(name: string): JobDefinition {
    const def = this.definitions.find((d) => d.name === name);
    if (!def) throw new UnknownJobError(`no job named ${name}`);
    return def;
  }

  async start(opts: { work: boolean }): Promise<void> {
    if (!opts.work) return;
    for (const def of this.definitions) {
      if (!def.schedule) continue;
      this.crons.push(
        new Cron(def.schedule, { timezone: this.deps.config.JOBS_TIMEZONE, protect: true, name: def.name }, async () => {
          await this.track(this.execute(def, {}, 'schedule', randomUUID()));
        }),
      );
    }
  }

  private track(p: Promise<unknown>): Promise<unknown> {
    // The failure is already recorded on its job_runs row; logged too, so that no error passes silently.
    const tracked = p.catch((err: unknown) => this.deps.log.error({ err }, 'an in-process job failed after its last attempt')).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
    return tracked;
  }

  /** Attempts with exponential backoff; each attempt is recorded, the last failure stays failed. */
  private async execute(def: JobDefinition, payload: unknown, trigger: JobTrigger, jobId: string): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runRecorded(this.deps, def, payload, { jobId, attempt, trigger, mode: this.mode, worker: `${hostname()}:${process.pid}` });
      } catch (err) {
        if (attempt >= def.attempts) throw err;
        await sleep(this.retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  async enqueue(name: string, payload: unknown, opts: { id?: string; trigger?: 'manual' | 'demand' } = {}): Promise<string> {
    const def = this.definition(name);
    const parsed = def.payload.parse(payload ?? {});
    const jobId = opts.id ?? randomUUID();
    if (opts.id && this.pendingIds.has(opts.id)) return jobId;
    if (opts.id) this.pendingIds.add(opts.id);
    void this.track(this.execute(def, parsed, opts.trigger ?? 'manual', jobId).finally(() => opts.id && this.pendingIds.delete(opts.id)));
    return jobId;
  }

  async schedules(): Promise<ScheduleView[]> {
    return this.definitions.map((def) => {
      const cron = this.crons.find((c) => c.name === def.name);
      const next = cron?.nextRun() ?? (def.schedule ? new Cron(def.schedule, { timezone: this.deps.config.JOBS_TIMEZONE, paused: true }).nextRun() : null);
      return { name: def.name, description: def.description, schedule: def.schedule, nextRunAt: next ? next.toISOString() : null };
    });
  }

  /** Runs whose job ended failed: the last attempt of each job id, when that attempt failed. */
  async failed(): Promise<FailedJobView[]> {
    const rows = await queryRows(
      this.deps.dbHandle.db,
      z.object({ id: col.id, job_name: col.text, finished_at: col.textOrNull, attempt: col.integer, error: col.textOrNull }),
      sql`select * from (
            select distinct on (job_id) id, job_name, status, attempt, error,
                   to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as finished_at, started_at
            from job_runs where mode = ${this.mode} and job_id is not null
            order by job_id, attempt desc, started_at desc) last
          where status = 'failed' order by started_at desc limit 100`,
    );
    return rows.map((r) => ({ id: r.id, name: r.job_name, failedAt: r.finished_at, attempts: r.attempt, error: r.error }));
  }

  async retry(id: string): Promise<void> {
    const run = /^\d{1,15}$/.test(id) ? await lastFailedRun(this.deps.dbHandle.db, { runId: Number(id) }) : undefined;
    if (!run) throw new UnknownJobError(`no failed run ${id}`);
    const def = this.definition(run.jobName);
    void this.track(this.execute(def, retryPayload(def, run.payload), 'retry', run.jobId ?? randomUUID()));
  }

  /** Waits for runs in flight (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  async stop(): Promise<void> {
    for (const c of this.crons) c.stop();
    await this.idle();
  }
}
