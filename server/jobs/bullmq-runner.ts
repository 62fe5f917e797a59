import { hostname } from 'node:os';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import type { JobDefinition } from './job-definition';
import { lastFailedRun, retryPayload, runRecorded } from './job-runs';
import { UnknownJobError, type FailedJobView, type JobRunner, type ScheduleView } from './runner';

const DEFAULT_QUEUE = 'jobs';
const envelope = z.object({ trigger: z.enum(['schedule', 'manual', 'retry', 'demand']), payload: z.unknown() });

/**
 * BullMQ: one queue, one job scheduler per recurring job (each occurrence is one job, which one
 * worker takes), any number of workers in any number of processes.
 */
export class BullmqRunner implements JobRunner {
  readonly mode = 'bullmq' as const;
  private readonly queue: Queue;
  private readonly connections: Redis[] = [];
  private worker: Worker | null = null;
  private started = false;
  /** What every handler gets: the process's services, with this runner as their `jobs`. */
  readonly deps: AppDeps;

  constructor(
    services: Omit<AppDeps, 'jobs'>,
    readonly definitions: JobDefinition[],
    private readonly redisUrl: string,
    private readonly queueName = DEFAULT_QUEUE,
  ) {
    const deps = (this.deps = { ...services, jobs: this });
    const queueConnection = this.connection();
    this.queue = new Queue(queueName, { connection: queueConnection, prefix: deps.config.REDIS_PREFIX });
    this.queue.on('error', (err) => deps.log.warn({ err }, 'job queue connection error'));
    // A Redis that comes back empty (no persistence) has lost the schedulers: put them back.
    queueConnection.on('ready', () => {
      if (!this.started) return;
      this.upsertSchedules().catch((err: unknown) => deps.log.error({ err }, 'could not restore job schedules after Redis reconnected'));
    });
  }

  private connection(): Redis {
    // BullMQ needs connections that wait for Redis instead of failing commands while it is away.
    const c = new Redis(this.redisUrl, { maxRetriesPerRequest: null });
    c.on('error', (err) => this.deps.log.debug({ err }, 'jobs redis error'));
    this.connections.push(c);
    return c;
  }

  private definition(name: string): JobDefinition {
    const def = this.definitions.find((d) => d.name === name);
    if (!def) throw new UnknownJobError(`no job named ${name}`);
    return def;
  }

  async start(opts: { work: boolean }): Promise<void> {
    await this.upsertSchedules();
    this.started = true;
    if (!opts.work) return;
    this.worker = new Worker(this.queueName, (job) => this.process(job), {
      connection: this.connection(),
      prefix: this.deps.config.REDIS_PREFIX,
      concurrency: 2,
    });
    this.worker.on('error', (err) => this.deps.log.warn({ err }, 'job worker error'));
  }

  /** Idempotent: an upsert keeps one scheduler per job whoever calls it, however often. */
  private async upsertSchedules(): Promise<void> {
    for (const def of this.definitions) {
      if (!def.schedule) continue;
      await this.queue.upsertJobScheduler(
        def.name,
        { pattern: def.schedule, tz: this.deps.config.JOBS_TIMEZONE },
        { name: def.name, data: { trigger: 'schedule', payload: {} }, opts: this.jobOptions(def) },
      );
    }
  }

  private jobOptions(def: JobDefinition) {
    return { attempts: def.attempts, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: 500, removeOnFail: 1_000 };
  }

  private async process(job: Job): Promise<unknown> {
    const def = this.definitions.find((d) => d.name === job.name);
    if (!def) throw new UnrecoverableError(`no job named ${job.name}`);
    const data = envelope.safeParse(job.data);
    const payload = data.success ? def.payload.safeParse(data.data.payload ?? {}) : null;
    if (!data.success || !payload?.success) throw new UnrecoverableError(`invalid payload for ${job.name}`);
    return runRecorded(this.deps, def, payload.data, {
      jobId: job.id ?? null,
      attempt: job.attemptsMade + 1,
      trigger: data.data.trigger,
      mode: this.mode,
      worker: `${hostname()}:${process.pid}`,
    });
  }

  async enqueue(name: string, payload: unknown, opts: { id?: string; trigger?: 'manual' | 'demand' } = {}): Promise<string> {
    const def = this.definition(name);
    const parsed = def.payload.parse(payload ?? {});
    const job = await this.queue.add(name, { trigger: opts.trigger ?? 'manual', payload: parsed }, { ...this.jobOptions(def), jobId: opts.id });
    return job.id!;
  }

  async schedules(): Promise<ScheduleView[]> {
    const schedulers = await this.queue.getJobSchedulers();
    return this.definitions.map((def) => {
      const s = schedulers.find((x) => x.key === def.name || x.name === def.name);
      return { name: def.name, description: def.description, schedule: def.schedule, nextRunAt: s?.next ? new Date(s.next).toISOString() : null };
    });
  }

  async failed(): Promise<FailedJobView[]> {
    const jobs = await this.queue.getFailed(0, 99);
    return jobs.map((j) => ({
      id: j.id!,
      name: j.name,
      failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
      attempts: j.attemptsMade,
      error: j.failedReason ?? null,
    }));
  }

  async retry(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    if (job) {
      // Its data still holds the payload (the worker re-parses it); the run is recorded as a retry.
      await job.updateData({ ...(job.data as object), trigger: 'retry' });
      await job.retry('failed');
      return;
    }
    // Gone from Redis (BullMQ keeps the last 1,000 failed jobs; a Redis without persistence none
    // after a restart): the failed run's record still has the input. A new job, since BullMQ's own
    // ids are numbers it may hand out again; named after the run, so a double click retries once.
    const run = await lastFailedRun(this.deps.dbHandle.db, { jobId: id, mode: this.mode, jobNames: this.definitions.map((d) => d.name) });
    if (!run) throw new UnknownJobError(`no job ${id}`);
    const def = this.definition(run.jobName);
    await this.queue.add(def.name, { trigger: 'retry', payload: retryPayload(def, run.payload) }, { ...this.jobOptions(def), jobId: `retry-${run.id}` });
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    for (const c of this.connections) c.disconnect();
  }
}
