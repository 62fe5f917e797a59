import { alertJobs } from './alert-jobs';
import { analyticsJobs } from './analytics-jobs';
import { coreJobs } from './definitions';
import { enhanceJobs } from './enhance-jobs';
import type { JobDefinition } from './job-definition';
import { reportJobs } from './report-jobs';

/** The jobs every runner knows. */
export const allJobs: JobDefinition[] = [...coreJobs, ...alertJobs, ...analyticsJobs, ...reportJobs, ...enhanceJobs];
