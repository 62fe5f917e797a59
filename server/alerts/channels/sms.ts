import { smsConfigSchema } from '../../../shared/alerts';
import { alertTitle, ChannelError, noticeTag, type AlertChannel } from './channel';
import { postJson } from './http-post';

/** SMS through a configurable HTTP gateway: POST { to: recipients, message }, with an optional bearer token. */
export const smsChannel: AlertChannel = {
  name: 'sms',
  // Texts are short: level, title and message only.
  buildPayload: (alert) => ({ message: `[Creditdesk ${noticeTag(alert)}] ${alertTitle(alert)}: ${alert.message}`.slice(0, 640) }),
  async send(payload, settings, ctx) {
    const config = smsConfigSchema.safeParse(settings.config);
    if (!config.success) throw new ChannelError('sms is not configured: a gateway URL and recipients are needed');
    const headers: Record<string, string> = settings.secretEncrypted ? { authorization: `Bearer ${ctx.secrets.decrypt(settings.secretEncrypted)}` } : {};
    await postJson(ctx.outbound, config.data.url, { to: config.data.recipients, message: payload.message }, { timeoutMs: ctx.timeoutMs, headers });
  },
};
