// No imports: AppDeps holds a JobRunner, and JobDefinition's handlers take AppDeps.
export type JobMode = 'bullmq' | 'in-process';

export type ScheduleView = {
  name: string;
  description: string;
  schedule: string | null;
  nextRunAt: string | null;
};

export type FailedJobView = { id: string; name: string; failedAt: string | null; attempts: number; error: string | null };

/** Runs the job definitions: on BullMQ with Redis, or on a cron library in this process without. */
export interface JobRunner {
  readonly mode: JobMode;
  /** Registers the schedules; with `work`, this process also executes jobs. */
  start(opts: { work: boolean }): Promise<void>;
  stop(): Promise<void>;
  /** Runs a job now (the Jobs page's "run now"); an `id` deduplicates while one is pending. */
  enqueue(name: string, payload: unknown, opts?: { id?: string; trigger?: 'manual' | 'demand' }): Promise<string>;
  schedules(): Promise<ScheduleView[]>;
  failed(): Promise<FailedJobView[]>;
  retry(id: string): Promise<void>;
}

export class UnknownJobError extends Error {}
