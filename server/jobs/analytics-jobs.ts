import { z } from 'zod';
import { backfillDailySummaries, generateDailyUsageSummary } from '../analytics/daily-summary';
import { addDays, today } from '../analytics/days';
import { optimizeAllocation } from '../analytics/reallocation';
import { rollUpDay } from '../analytics/today-rollup';
import { defineJob, type JobDefinition } from './job-definition';

export const analyticsJobs: JobDefinition[] = [
  defineJob({
    name: 'daily-usage-summary',
    description: "Summarises yesterday's usage (again, in case late entries arrived) and any day that was missed.",
    schedule: '0 1 * * *',
    payload: z
      .object({
        day: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/)
          .optional(),
      })
      .strict(),
    attempts: 3,
    run: async (deps, payload) => {
      const day = payload.day ?? addDays(today(), -1);
      await generateDailyUsageSummary(deps.dbHandle.db, day);
      return { day, backfilled: await backfillDailySummaries(deps.dbHandle.db) };
    },
  }),
  defineJob({
    name: 'usage-rollup',
    description: "Rolls up today's closed quarter-hours of usage, so the dashboard reads them instead of every ledger row of the day.",
    schedule: '*/5 * * * *',
    payload: z.object({}).strict(),
    attempts: 2,
    run: async (deps) => ({ day: today(), bucketsRolled: await rollUpDay(deps.dbHandle.db, today()) }),
  }),
  defineJob({
    name: 'smart-reallocation',
    description: 'Suggests upgrades to heavy users and moves idle allowances to the platform pool.',
    schedule: '0 2 * * *',
    payload: z.object({}).strict(),
    attempts: 2,
    run: (deps) => optimizeAllocation(deps.dbHandle.db),
  }),
];
