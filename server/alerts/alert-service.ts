import type { Db } from '../db/client';
import { recordAlert, type AlertSink } from './alert-sink';
import type { AlertDeps } from './channels/channel';
import { sendDueDeliveries, type SendResult } from './deliveries';
import { dispatchAlerts, type RoutingResult } from './routing';

export type { AlertDeps } from './channels/channel';
export { dispatchAlerts } from './routing';
export { sendDueDeliveries } from './deliveries';

/**
 * Raises an alert in the caller's transaction. It only writes system_alerts (the outbox): channels
 * are reached after commit by runAlertDispatch, so a slow or failing channel never holds up or
 * fails the request that raised the alert.
 */
export const notify: AlertSink['notify'] = recordAlert;

/**
 * Routes new, resolved and reminder-due alerts to their channels, then sends every due delivery.
 * Scheduled every 30 s, and may be called right after an alert; safe in any number of processes at
 * once. `now` is the clock of reminders and silences (tests inject it).
 */
export async function runAlertDispatch(db: Db, deps: AlertDeps, now: Date = new Date()): Promise<RoutingResult & SendResult> {
  const routing = await dispatchAlerts(db, now);
  const sending = await sendDueDeliveries(db, deps);
  return { ...routing, ...sending };
}
