import { z } from 'zod';
import {
  activeAlertsInputSchema,
  alertActionInputSchema,
  alertChannelSchema,
  alertDeliverySchema,
  alertHistoryInputSchema,
  alertRuleInputSchema,
  alertRuleSchema,
  alertSchema,
  channelSettingsSchema,
  channelTestResultSchema,
  createSilenceInputSchema,
  deleteAlertRuleInputSchema,
  endSilenceInputSchema,
  silenceSchema,
  updateAlertRuleInputSchema,
  updateChannelInputSchema,
} from '../../../shared/alerts';
import { acknowledgeAlert, alertDeliveriesOf, alertHistory, listActiveAlerts, resolveAlert } from '../../alerts/alert-admin';
import { listChannelViews, updateChannel } from '../../alerts/channel-settings';
import { createRule, deleteRule, listRules, updateRule } from '../../alerts/rules';
import { sendChannelTest } from '../../alerts/send-test';
import { createSilence, endSilence, listActiveSilences } from '../../alerts/silences';
import { router } from '../init';
import { adminProcedure } from '../procedures';

const channelsRouter = router({
  list: adminProcedure('analyst')
    .output(z.array(channelSettingsSchema))
    .query(({ ctx }) => listChannelViews(ctx.db)),
  update: adminProcedure('admin')
    .input(updateChannelInputSchema)
    .output(channelSettingsSchema)
    .mutation(({ ctx, input }) => updateChannel(ctx.db, ctx.deps.secrets, ctx.actor, input)),
  sendTest: adminProcedure('admin')
    .input(z.object({ channel: alertChannelSchema }))
    .output(channelTestResultSchema)
    .mutation(({ ctx, input }) => sendChannelTest(ctx.db, ctx.deps, ctx.actor, input.channel)),
});

const rulesRouter = router({
  list: adminProcedure('analyst')
    .output(z.array(alertRuleSchema))
    .query(({ ctx }) => listRules(ctx.db)),
  create: adminProcedure('admin')
    .input(alertRuleInputSchema)
    .output(alertRuleSchema)
    .mutation(({ ctx, input }) => createRule(ctx.db, ctx.actor, input)),
  update: adminProcedure('admin')
    .input(updateAlertRuleInputSchema)
    .output(alertRuleSchema)
    .mutation(({ ctx, input }) => updateRule(ctx.db, ctx.actor, input)),
  delete: adminProcedure('admin')
    .input(deleteAlertRuleInputSchema)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(({ ctx, input }) => deleteRule(ctx.db, ctx.actor, input)),
});

const silencesRouter = router({
  list: adminProcedure('analyst')
    .output(z.array(silenceSchema))
    .query(({ ctx }) => listActiveSilences(ctx.db)),
  create: adminProcedure('admin')
    .input(createSilenceInputSchema)
    .output(silenceSchema)
    .mutation(({ ctx, input }) => createSilence(ctx.db, ctx.actor, input)),
  end: adminProcedure('admin')
    .input(endSilenceInputSchema)
    .output(silenceSchema)
    .mutation(({ ctx, input }) => endSilence(ctx.db, ctx.actor, input)),
});

export const alertsRouter = router({
  active: adminProcedure('analyst')
    .input(activeAlertsInputSchema)
    .output(z.array(alertSchema))
    .query(({ ctx, input }) => listActiveAlerts(ctx.db, input)),
  history: adminProcedure('analyst')
    .input(alertHistoryInputSchema)
    .output(z.object({ rows: z.array(alertSchema), total: z.number().int() }))
    .query(({ ctx, input }) => alertHistory(ctx.db, input)),
  deliveries: adminProcedure('analyst')
    .input(alertActionInputSchema.pick({ id: true }))
    .output(z.array(alertDeliverySchema))
    .query(({ ctx, input }) => alertDeliveriesOf(ctx.db, input.id)),
  acknowledge: adminProcedure('admin')
    .input(alertActionInputSchema)
    .output(alertSchema)
    .mutation(({ ctx, input }) => acknowledgeAlert(ctx.db, ctx.actor, input)),
  resolve: adminProcedure('admin')
    .input(alertActionInputSchema)
    .output(alertSchema)
    .mutation(({ ctx, input }) => resolveAlert(ctx.db, ctx.actor, input)),
  channels: channelsRouter,
  rules: rulesRouter,
  silences: silencesRouter,
});
