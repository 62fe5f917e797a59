import { desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import {
  dashboardSchema,
  forecastSchema,
  reallocationResultSchema,
  topUserSchema,
  topUsersInputSchema,
  trendInputSchema,
  trendSchema,
  whatIfInputSchema,
  whatIfResultSchema,
} from '../../../shared/analytics';
import { jobRunSchema } from '../../../shared/jobs';
import { dashboard } from '../../analytics/dashboard';
import { forecast } from '../../analytics/forecast';
import { topUsers, usageTrend } from '../../analytics/trends';
import { whatIf } from '../../analytics/what-if';
import { toRunView } from '../../jobs/job-overview';
import { jobRuns } from '../../jobs/tables';
import { router } from '../init';
import { adminProcedure } from '../procedures';

export const dashboardProcedure = adminProcedure('analyst')
  .output(dashboardSchema)
  .query(({ ctx }) => dashboard(ctx.db));

export const usageRouter = router({
  trend: adminProcedure('analyst')
    .input(trendInputSchema)
    .output(trendSchema)
    .query(({ ctx, input }) => usageTrend(ctx.db, { ...input.range, split: input.split })),
  topUsers: adminProcedure('analyst')
    .input(topUsersInputSchema)
    .output(z.array(topUserSchema))
    .query(({ ctx, input }) => topUsers(ctx.db, { ...input.range, limit: input.limit })),
  forecast: adminProcedure('analyst')
    .output(forecastSchema)
    .query(({ ctx }) => forecast(ctx.db)),
  whatIf: adminProcedure('analyst')
    .input(whatIfInputSchema)
    .output(whatIfResultSchema)
    .query(({ ctx, input }) => whatIf(ctx.db, input)),
  /** The last smart-reallocation run and what it did. */
  lastReallocation: adminProcedure('analyst')
    .output(z.object({ run: jobRunSchema.nullable(), outcome: reallocationResultSchema.nullable() }))
    .query(async ({ ctx }) => {
      const [run] = await ctx.db.select().from(jobRuns).where(eq(jobRuns.jobName, 'smart-reallocation')).orderBy(desc(jobRuns.startedAt)).limit(1);
      const outcome = run?.status === 'succeeded' ? reallocationResultSchema.safeParse(run.result) : null;
      return { run: run ? toRunView(run) : null, outcome: outcome?.success ? outcome.data : null };
    }),
});
