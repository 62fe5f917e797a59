import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { jobNameSchema, jobOverviewSchema, jobRunSchema, jobRunsInputSchema } from '../../../shared/jobs';
import { audit } from '../../auth/audit';
import { jobOverview, listJobRuns } from '../../jobs/job-overview';
import { UnknownJobError } from '../../jobs/runner';
import { router } from '../init';
import { adminProcedure } from '../procedures';

const notFound = (err: unknown) => {
  if (err instanceof UnknownJobError) throw new TRPCError({ code: 'NOT_FOUND', message: err.message });
  throw err;
};

export const jobsRouter = router({
  overview: adminProcedure('analyst')
    .output(jobOverviewSchema)
    .query(({ ctx }) => jobOverview(ctx.deps)),
  runs: adminProcedure('analyst')
    .input(jobRunsInputSchema)
    .output(z.object({ rows: z.array(jobRunSchema), total: z.number().int() }))
    .query(({ ctx, input }) => listJobRuns(ctx.db, input)),
  runNow: adminProcedure('admin')
    .input(z.object({ name: jobNameSchema }))
    .output(z.object({ jobId: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const jobId = await ctx.deps.jobs.enqueue(input.name, {}, { trigger: 'manual' }).catch(notFound);
      await audit(ctx.db, ctx.actor, { action: 'job.run', targetType: 'job', targetId: input.name, after: { jobId } });
      return { jobId };
    }),
  retry: adminProcedure('admin')
    .input(z.object({ id: z.string().min(1).max(200) }))
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.jobs.retry(input.id).catch(notFound);
      await audit(ctx.db, ctx.actor, { action: 'job.retry', targetType: 'job', targetId: input.id });
      return { ok: true as const };
    }),
});
