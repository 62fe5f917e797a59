import { z } from 'zod';
import { enhancementIdSchema } from '../../shared/enhance-async';
import { ENHANCE_JOB, sweepSubmittedEnhancements } from '../providers/async-enhancement';
import { processSubmittedEnhancement } from '../providers/async-worker';
import { defineJob, type JobDefinition } from './job-definition';
import type { JobRunner } from './runner';

/** Enqueues a submitted enhancement; the id deduplicates while its job is pending. A sweep adds a fresh job (the lease keeps duplicates harmless). */
export const enqueueSubmitted = (jobs: JobRunner, enhancementId: string, opts: { sweep?: boolean } = {}) =>
  jobs.enqueue(ENHANCE_JOB, { enhancementId }, { id: opts.sweep ? `enhance-${enhancementId}-sweep-${Date.now()}` : `enhance-${enhancementId}`, trigger: 'demand' });

export const enhanceJobs: JobDefinition[] = [
  defineJob({
    name: ENHANCE_JOB,
    description: 'Runs one enhancement submitted with enhance.submit (enqueued on demand).',
    schedule: null,
    payload: z.object({ enhancementId: enhancementIdSchema }).strict(),
    attempts: 3,
    run: (deps, payload) => processSubmittedEnhancement(deps.gateway, payload.enhancementId),
  }),
  defineJob({
    name: 'sweep-submitted-enhancements',
    description: 'Enqueues submitted enhancements whose job vanished (queued and untaken, or a worker that stopped renewing its lease).',
    schedule: '* * * * *',
    payload: z.object({}).strict(),
    attempts: 1,
    run: async (deps) => ({ enqueued: await sweepSubmittedEnhancements(deps.gateway, (id) => enqueueSubmitted(deps.jobs, id, { sweep: true })) }),
  }),
];
