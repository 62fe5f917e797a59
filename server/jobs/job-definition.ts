import type { z } from 'zod';
import type { AppDeps } from '../app-deps';

/** A recurring or on-demand task; its handler must be safe to run again (retries, manual runs). */
export type JobDefinition<P = unknown> = {
  name: string;
  description: string;
  /** A cron pattern in the jobs time zone, or null for on-demand jobs. */
  schedule: string | null;
  /** Re-parsed by the worker: a payload that does not match fails without retries. */
  payload: z.ZodType<P>;
  attempts: number;
  run: (deps: AppDeps, payload: P) => Promise<unknown>;
};

export const defineJob = <P>(def: JobDefinition<P>): JobDefinition<unknown> => def as JobDefinition<unknown>;

export type JobTrigger = 'schedule' | 'manual' | 'retry' | 'demand';
