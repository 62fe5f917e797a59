import { z } from 'zod';
import { pageInputSchema } from './common';

export const jobNameSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'not a job name');

export const jobRunSchema = z.object({
  id: z.string(),
  jobName: z.string(),
  jobId: z.string().nullable(),
  attempt: z.number().int(),
  trigger: z.string(),
  mode: z.string(),
  status: z.enum(['running', 'succeeded', 'failed']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().int().nullable(),
  error: z.string().nullable(),
  result: z.unknown(),
});

export const jobOverviewSchema = z.object({
  mode: z.enum(['bullmq', 'in-process']),
  timezone: z.string(),
  jobs: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      schedule: z.string().nullable(),
      nextRunAt: z.string().nullable(),
      lastRun: jobRunSchema.nullable(),
    }),
  ),
  failed: z.array(z.object({ id: z.string(), name: z.string(), failedAt: z.string().nullable(), attempts: z.number().int(), error: z.string().nullable() })),
});

export const jobRunsInputSchema = pageInputSchema.extend({ jobName: jobNameSchema.optional(), status: z.enum(['running', 'succeeded', 'failed']).optional() });
