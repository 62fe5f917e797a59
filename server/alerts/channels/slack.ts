import type { AlertLevelName } from '../../../shared/alerts';
import { alertTitle, ChannelError, type AlertChannel } from './channel';
import { postJson } from './http-post';

/** The seed's attachment colours, one per level. */
export const slackColours: Record<AlertLevelName, string> = {
  info: '#36a64f',
  warning: '#ff9900',
  error: '#ff0000',
  critical: '#8b0000',
};

/** Slack incoming webhook: the seed's attachment payload; the webhook URL is the channel's secret. */
export const slackChannel: AlertChannel = {
  name: 'slack',
  buildPayload: (alert) => ({
    attachments: [
      {
        color: slackColours[alert.level],
        title: alertTitle(alert),
        text: alert.message,
        fields: [
          { title: 'Level', value: alert.level, short: true },
          { title: 'Time', value: alert.lastSeenAt.toISOString(), short: true },
        ],
        ts: Math.floor(alert.lastSeenAt.getTime() / 1000),
      },
    ],
  }),
  async send(payload, settings, ctx) {
    if (!settings.secretEncrypted) throw new ChannelError('slack is not configured: no webhook URL is set');
    await postJson(ctx.outbound, ctx.secrets.decrypt(settings.secretEncrypted), payload, { timeoutMs: ctx.timeoutMs });
  },
};
