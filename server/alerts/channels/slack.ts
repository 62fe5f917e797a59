import type { AlertLevelName } from '../../../shared/alerts';
import { alertTitle, ChannelError, noticeTag, noticeTime, type AlertChannel, type RoutedAlert } from './channel';
import { postJson } from './http-post';
import { escapeSlackText } from './slack-text';

/** One emoji per level in the header, where attachments used to carry a colour; resolved is green. */
const levelEmoji: Record<AlertLevelName, string> = {
  info: ':large_blue_circle:',
  warning: ':large_orange_circle:',
  error: ':red_circle:',
  critical: ':rotating_light:',
};

/**
 * The line notifications and screen readers show: Slack uses the top-level `text` when blocks are
 * present, and reads it as mrkdwn, so it is escaped as the message's block is.
 */
export const slackPreview = (alert: RoutedAlert) => escapeSlackText(`[${noticeTag(alert)}] ${alertTitle(alert)}: ${alert.message}`).slice(0, 3000);

function blocks(alert: RoutedAlert) {
  const time = noticeTime(alert);
  const emoji = alert.notice === 'resolved' ? ':white_check_mark:' : levelEmoji[alert.level];
  return [
    // Header text is plain_text of at most 150 characters.
    { type: 'header', text: { type: 'plain_text', text: `${emoji} ${noticeTag(alert)}: ${alertTitle(alert)}`.slice(0, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeSlackText(alert.message).slice(0, 3000) } },
    {
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: `Level: *${alert.level}*` },
        { type: 'mrkdwn', text: `<!date^${Math.floor(time.getTime() / 1000)}^{date_short_pretty} {time}|${time.toISOString()}>` },
        { type: 'mrkdwn', text: `Occurrences: ${alert.occurrences}` },
      ],
    },
  ];
}

/**
 * Slack incoming webhook with Block Kit: a top-level `text` (the notification preview and the
 * fallback) and blocks for the message itself. The webhook URL is the channel's secret.
 */
export const slackChannel: AlertChannel = {
  name: 'slack',
  buildPayload: (alert) => ({ text: slackPreview(alert), blocks: blocks(alert) }),
  async send(payload, settings, ctx) {
    if (!settings.secretEncrypted) throw new ChannelError('slack is not configured: no webhook URL is set');
    await postJson(ctx.outbound, ctx.secrets.decrypt(settings.secretEncrypted), payload, { timeoutMs: ctx.timeoutMs });
  },
};
