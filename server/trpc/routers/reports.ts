import { z } from 'zod';
import { reportKindSchema, reportSettingsInputSchema, reportSettingsSchema, sendNowResultSchema } from '../../../shared/reports';
import { listReportSettings, updateReportSettings } from '../../reports/report-settings';
import { sendReportNow } from '../../reports/send-report';
import { router } from '../init';
import { adminProcedure } from '../procedures';

export const reportsRouter = router({
  settings: adminProcedure('analyst')
    .output(z.array(reportSettingsSchema))
    .query(({ ctx }) => listReportSettings(ctx.db)),
  updateSettings: adminProcedure('admin')
    .input(reportSettingsInputSchema)
    .output(reportSettingsSchema)
    .mutation(({ ctx, input }) => updateReportSettings(ctx.db, ctx.actor, input)),
  sendNow: adminProcedure('admin')
    .input(z.object({ kind: reportKindSchema }))
    .output(sendNowResultSchema)
    .mutation(({ ctx, input }) => sendReportNow(ctx.db, ctx.deps, ctx.actor, input.kind)),
});
