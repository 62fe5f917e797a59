import type { AlertChannelName } from '../../shared/alerts';
import { audit, type Actor } from '../auth/audit';
import type { Db } from '../db/client';
import { recordAlert } from './alert-sink';
import { channels } from './channels';
import { DEFAULT_CHANNEL_TIMEOUT_MS, type AlertDeps, type RoutedAlert } from './channels/channel';
import { getChannelSettings } from './channel-settings';

export type ChannelTestResult = { ok: true } | { ok: false; error: string };

/**
 * Sends a test message through one channel now, with its saved settings, enabled or not (so an
 * admin can check them before switching the channel on). In-app's test is an info alert in the list.
 * The outcome is returned and audited: a failure is the answer here, not an exception.
 */
export async function sendChannelTest(db: Db, deps: AlertDeps, actor: Actor, channel: AlertChannelName): Promise<ChannelTestResult> {
  const alert: RoutedAlert = {
    notice: 'firing',
    id: 0,
    type: 'channel_test',
    level: 'info',
    subject: channel,
    message: `Test message from Creditdesk, sent by ${actor.label}. If you can read this, the ${channel} channel works.`,
    metadata: { requestedBy: actor.label },
    occurrences: 1,
    lastSeenAt: new Date(),
    resolvedAt: null,
  };
  let result: ChannelTestResult;
  try {
    if (channel === 'in_app') {
      await recordAlert(db, { type: alert.type, level: alert.level, subject: alert.subject, message: alert.message, metadata: alert.metadata });
    } else {
      const settings = await getChannelSettings(db, channel);
      await channels[channel].send(channels[channel].buildPayload(alert), settings, {
        secrets: deps.secrets,
        outbound: deps.outbound,
        timeoutMs: deps.channelTimeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS,
      });
    }
    result = { ok: true };
  } catch (err) {
    result = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  await audit(db, actor, { action: 'alert.channel.test', targetType: 'alert_channel', targetId: channel, after: result });
  return result;
}
