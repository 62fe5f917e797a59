import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { DEFAULT_REPEAT_INTERVAL_SECONDS, defaultChannelsFor, type AlertChannelName, type AlertLevelName } from '../../shared/alerts';
import type { Db, DbOrTx } from '../db/client';
import { col, queryOne, queryRows } from '../db/rows';
import { z } from 'zod';
import { channels } from './channels';
import type { ChannelSettings, NoticeKind, RoutedAlert } from './channels/channel';
import { loadChannelSettings } from './channel-settings';
import { silenceFor } from './silences';
import { alertDeliveries, creditAlerts, systemAlerts } from './tables';

const ROUTING_BATCH = 100;
// Bounds one run; what is left is picked up by the next run (every 30 s).
const MAX_ROUTING_BATCHES = 20;

export type RoutingResult = { routed: number; deliveries: number; suppressed: number; silenced: number };
type AlertRow = typeof systemAlerts.$inferSelect;

/**
 * Claims the cool-down of (type, subject, channel) for a new crossing, across every process: the
 * first claim inserts the row, a later one wins only once the last send is older than the channel's
 * cool-down. It keeps a flapping condition (cleared and crossed again within minutes) from sending
 * a firing notice each time; reminders and resolved notices are not held by it.
 */
async function claimCooldown(tx: DbOrTx, alert: RoutedAlert, channel: AlertChannelName, cooldownSeconds: number, now: Date): Promise<boolean> {
  const row = await queryOne(
    tx,
    z.object({ claimed: col.integer }),
    sql`insert into alert_cooldowns (alert_type, subject, channel, last_sent_at)
        values (${alert.type}, ${alert.subject}, ${channel}, ${now.toISOString()}::timestamptz)
        on conflict (alert_type, subject, channel) do update set last_sent_at = excluded.last_sent_at
        where alert_cooldowns.last_sent_at < ${now.toISOString()}::timestamptz - make_interval(secs => ${cooldownSeconds})
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

/**
 * What this routing tells the channels: the alert cleared; it crossed, escalated, or was never told
 * (held by a silence that has ended); or it is still open after its repeat interval.
 */
const noticeOf = (a: AlertRow): NoticeKind => (a.status === 'resolved' ? 'resolved' : a.needsRouting || a.lastNotifiedAt === null ? 'firing' : 'reminder');

const toRouted = (a: AlertRow, notice: NoticeKind): RoutedAlert => ({
  notice,
  id: a.id,
  type: a.type,
  level: a.level as AlertLevelName,
  subject: a.subject,
  message: a.message,
  metadata: (a.metadata ?? {}) as Record<string, unknown>,
  occurrences: a.occurrences,
  lastSeenAt: a.lastSeenAt,
  resolvedAt: a.resolvedAt,
});

/** A resolved notice goes to the channels that were sent (or are sending) this alert, and only those. */
async function channelsThatGotIt(tx: DbOrTx, alertId: number): Promise<AlertChannelName[]> {
  const rows = await tx
    .selectDistinct({ channel: alertDeliveries.channel })
    .from(alertDeliveries)
    .where(and(eq(alertDeliveries.alertId, alertId), ne(alertDeliveries.kind, 'resolved'), ne(alertDeliveries.status, 'failed'), ne(alertDeliveries.channel, 'in_app')));
  return rows.map((r) => r.channel as AlertChannelName);
}

async function queueDeliveries(
  tx: DbOrTx,
  alert: RoutedAlert,
  wanted: Iterable<AlertChannelName>,
  settings: Map<AlertChannelName, ChannelSettings>,
  opts: { cooldown: boolean; now: Date },
  result: RoutingResult,
) {
  for (const channel of wanted) {
    const s = settings.get(channel);
    if (!s?.enabled) continue;
    if (opts.cooldown && !(await claimCooldown(tx, alert, channel, s.cooldownSeconds, opts.now))) {
      result.suppressed++;
      continue;
    }
    // In-app needs no send: the alert row is what the back office shows.
    const inApp = channel === 'in_app';
    await tx.insert(alertDeliveries).values({
      alertId: alert.id,
      channel,
      kind: alert.notice,
      payload: channels[channel].buildPayload(alert),
      ...(inApp ? { status: 'sent', attempts: 1, sentAt: sql`now()` } : {}),
    });
    result.deliveries++;
  }
}

/**
 * Alerts with something to tell, locked for this run: opened, escalated or resolved since the last
 * run (needs_routing), and open ones whose last notice is older than their type's repeat interval
 * at `now` — unless a silence still in force held back their last notice.
 */
async function claimBatch(tx: DbOrTx, now: Date): Promise<AlertRow[]> {
  const at = now.toISOString();
  const ids = await queryRows(
    tx,
    z.object({ id: col.integer }),
    sql`select a.id from system_alerts a
        where a.needs_routing
           or (a.status = 'open'
               and coalesce(a.last_notified_at, '-infinity') <= ${at}::timestamptz - make_interval(secs => coalesce(
                 (select min(r.repeat_interval_seconds) from credit_alerts r where r.alert_type = a.type and r.is_active),
                 ${DEFAULT_REPEAT_INTERVAL_SECONDS}))
               and not exists (select 1 from alert_silences s
                               where s.id = a.silence_id and s.ended_at is null and s.ends_at > ${at}::timestamptz))
        order by a.id limit ${ROUTING_BATCH}
        for update of a skip locked`,
  );
  if (!ids.length) return [];
  return tx
    .select()
    .from(systemAlerts)
    .where(
      inArray(
        systemAlerts.id,
        ids.map((r) => r.id),
      ),
    )
    .orderBy(systemAlerts.id);
}

/** One batch in one transaction: a crash or error leaves its alerts claimable again, with nothing half-routed. */
async function routeBatch(db: Db, now: Date, result: RoutingResult): Promise<number> {
  return db.transaction(async (tx) => {
    // Only statements on this database happen while the rows are held, so a request folding a
    // repeat into one of these alerts waits milliseconds at most.
    const claimed = await claimBatch(tx, now);
    if (!claimed.length) return 0;
    const settings = await loadChannelSettings(tx);
    const { byType, ruleIds } = await rulesFor(tx, [...new Set(claimed.map((a) => a.type))]);
    for (const a of claimed) {
      const notice = noticeOf(a);
      const alert = toRouted(a, notice);
      const silence = await silenceFor(tx, a, now);
      if (silence !== null) {
        // Recorded, not sent: the row stays in the back office; the notice waits for the silence to end.
        await tx.update(systemAlerts).set({ needsRouting: false, silenceId: silence }).where(eq(systemAlerts.id, a.id));
        result.silenced++;
        continue;
      }
      if (notice === 'resolved') {
        await queueDeliveries(tx, alert, await channelsThatGotIt(tx, a.id), settings, { cooldown: false, now }, result);
        await tx.update(systemAlerts).set({ needsRouting: false }).where(eq(systemAlerts.id, a.id));
        continue;
      }
      const wanted = new Set([...defaultChannelsFor(alert.level), ...(byType.get(a.type) ?? [])]);
      // The back office already shows the open alert: in-app hears of the crossing only.
      if (notice === 'reminder') wanted.delete('in_app');
      // A fresh crossing is held by the channel cool-downs; an escalation of a notified alert is not.
      await queueDeliveries(tx, alert, wanted, settings, { cooldown: notice === 'firing' && a.lastNotifiedAt === null, now }, result);
      await tx.update(systemAlerts).set({ needsRouting: false, lastNotifiedAt: now, silenceId: null }).where(eq(systemAlerts.id, a.id));
    }
    if (ruleIds.length) await tx.update(creditAlerts).set({ lastTriggeredAt: now }).where(inArray(creditAlerts.id, ruleIds));
    result.routed += claimed.length;
    return claimed.length;
  });
}

/**
 * Tells the channels what changed since the last run: each alert that opened (its firing notice,
 * to the level's default channels plus those of active rules for its type, enabled ones only, held
 * by the channel cool-downs), each open alert past its repeat interval (a reminder), each resolved
 * alert (a resolved notice to the channels that got it). Silenced alerts are recorded, not sent.
 * `now` is the clock of reminders and silences (tests inject it). Safe in any number of processes.
 */
export async function dispatchAlerts(db: Db, now: Date = new Date()): Promise<RoutingResult> {
  const result: RoutingResult = { routed: 0, deliveries: 0, suppressed: 0, silenced: 0 };
  for (let i = 0; i < MAX_ROUTING_BATCHES; i++) {
    if ((await routeBatch(db, now, result)) < ROUTING_BATCH) break;
  }
  return result;
}
