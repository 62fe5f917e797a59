import { and, eq, inArray, sql } from 'drizzle-orm';
import type { AlertChannelName, AlertLevelName } from '../../shared/alerts';
import type { Db, DbOrTx } from '../db/client';
import { queryOne } from '../db/rows';
import { channels } from './channels';
import type { ChannelSettings, RoutedAlert } from './channels/channel';
import { loadChannelSettings } from './channel-settings';
import { alertDeliveries, creditAlerts, systemAlerts } from './tables';

const ROUTING_BATCH = 100;
// Bounds one run; what is left is picked up by the next run (every 10 s).
const MAX_ROUTING_BATCHES = 20;

/** The seed's routing by level; in-app gets every alert. */
export function defaultChannelsFor(level: AlertLevelName): AlertChannelName[] {
  if (level === 'error' || level === 'critical') return ['in_app', 'slack', 'email'];
  if (level === 'warning') return ['in_app', 'slack'];
  return ['in_app'];
}

export type RoutingResult = { routed: number; deliveries: number; suppressed: number };

/**
 * Claims the cool-down of (type, subject, channel) for this send, across every process: the first
 * claim inserts the row, a later one wins only once the last send is older than the cool-down.
 * No row back means a send went out within the cool-down, so this one is suppressed (the repeat is
 * already counted in the alert's occurrences).
 */
async function claimCooldown(tx: DbOrTx, alert: RoutedAlert, channel: AlertChannelName, cooldownSeconds: number): Promise<boolean> {
  const row = await queryOne<{ claimed: number }>(
    tx,
    sql`insert into alert_cooldowns (alert_type, subject, channel, last_sent_at)
        values (${alert.type}, ${alert.subject}, ${channel}, now())
        on conflict (alert_type, subject, channel) do update set last_sent_at = now()
        where alert_cooldowns.last_sent_at < now() - make_interval(secs => ${cooldownSeconds})
        returning 1 as claimed`,
  );
  return row !== undefined;
}

/** The channels of active rules for each alert type, and the rules that matched. */
async function rulesFor(tx: DbOrTx, types: string[]) {
  const rules = await tx
    .select({ id: creditAlerts.id, alertType: creditAlerts.alertType, channels: creditAlerts.notificationChannels })
    .from(creditAlerts)
    .where(and(eq(creditAlerts.isActive, true), inArray(creditAlerts.alertType, types)));
  const byType = new Map<string, AlertChannelName[]>();
  for (const r of rules) byType.set(r.alertType, [...(byType.get(r.alertType) ?? []), ...(r.channels as AlertChannelName[])]);
  return { byType, ruleIds: rules.map((r) => r.id) };
}

async function routeOne(tx: DbOrTx, alert: RoutedAlert, wanted: Set<AlertChannelName>, settings: Map<AlertChannelName, ChannelSettings>, result: RoutingResult) {
  for (const channel of wanted) {
    const s = settings.get(channel);
    if (!s?.enabled) continue;
    if (!(await claimCooldown(tx, alert, channel, s.cooldownSeconds))) {
      result.suppressed++;
      continue;
    }
    // In-app needs no send: the alert row is what the back office shows.
    const inApp = channel === 'in_app';
    await tx.insert(alertDeliveries).values({
      alertId: alert.id,
      channel,
      payload: channels[channel].buildPayload(alert),
      ...(inApp ? { status: 'sent', attempts: 1, sentAt: sql`now()` } : {}),
    });
    result.deliveries++;
  }
}

/** One batch in one transaction: a crash or error leaves its alerts claimable again, with nothing half-routed. */
async function routeBatch(db: Db, result: RoutingResult): Promise<number> {
  return db.transaction(async (tx) => {
    // Only statements on this database happen while the rows are held, so a request folding a
    // repeat into one of these alerts waits milliseconds at most.
    const due = tx
      .select({ id: systemAlerts.id })
      .from(systemAlerts)
      .where(eq(systemAlerts.needsRouting, true))
      .orderBy(systemAlerts.id)
      .limit(ROUTING_BATCH)
      .for('update', { skipLocked: true });
    const claimed = await tx.update(systemAlerts).set({ needsRouting: false }).where(inArray(systemAlerts.id, due)).returning();
    if (!claimed.length) return 0;
    const settings = await loadChannelSettings(tx);
    const { byType, ruleIds } = await rulesFor(tx, [...new Set(claimed.map((a) => a.type))]);
    for (const a of claimed) {
      const alert: RoutedAlert = {
        id: a.id,
        type: a.type,
        level: a.level as AlertLevelName,
        subject: a.subject,
        message: a.message,
        metadata: (a.metadata ?? {}) as Record<string, unknown>,
        occurrences: a.occurrences,
        lastSeenAt: a.lastSeenAt,
      };
      const wanted = new Set([...defaultChannelsFor(alert.level), ...(byType.get(a.type) ?? [])]);
      await routeOne(tx, alert, wanted, settings, result);
    }
    if (ruleIds.length) await tx.update(creditAlerts).set({ lastTriggeredAt: sql`now()` }).where(inArray(creditAlerts.id, ruleIds));
    result.routed += claimed.length;
    return claimed.length;
  });
}

/**
 * Routes every alert raised or repeated since the last run: decides its channels (level defaults
 * plus the channels of active rules for its type, enabled ones only), claims each channel's
 * cool-down and queues a pending delivery. Safe to run in any number of processes at once.
 */
export async function dispatchAlerts(db: Db): Promise<RoutingResult> {
  const result: RoutingResult = { routed: 0, deliveries: 0, suppressed: 0 };
  for (let i = 0; i < MAX_ROUTING_BATCHES; i++) {
    if ((await routeBatch(db, result)) < ROUTING_BATCH) break;
  }
  return result;
}
