import type { AlertChannel } from './channel';

/**
 * In-app: the system_alerts row is itself the notification the back office shows, so there is
 * nothing to send; its delivery row is written as sent when the alert is routed.
 */
export const inAppChannel: AlertChannel = {
  name: 'in_app',
  buildPayload: (alert) => ({ alertId: alert.id, notice: alert.notice, occurrences: alert.occurrences }),
  send: async () => {},
};
