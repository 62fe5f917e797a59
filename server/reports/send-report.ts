import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ReportContent, ReportKind, SendNowResult } from '../../shared/reports';
import { channels } from '../alerts/channels';
import { DEFAULT_CHANNEL_TIMEOUT_MS, type AlertDeps } from '../alerts/channels/channel';
import { getChannelSettings } from '../alerts/channel-settings';
import { audit, type Actor } from '../auth/audit';
import type { Db } from '../db/client';
import { col, queryOne } from '../db/rows';
import { chartAttachment } from './report-chart';
import { buildReport } from './report-content';
import { reportPeriod, type ReportPeriod } from './report-period';
import { renderReport, type RenderedReport } from './report-render';
import { getReportSettings } from './report-settings';

type Channel = 'slack' | 'email';
type Delivery = { channel: Channel; ok: boolean; error: string | null };
/** A claim whose worker died mid-send may be taken over after this long. */
const CLAIM_LEASE_MINUTES = 10;

/**
 * Sends through the alert channels' settings: Slack's webhook, and the email channel's SMTP server
 * to the report's own recipients. Channels in `skip` already got this report.
 */
async function deliver(db: Db, deps: AlertDeps, content: ReportContent, rendered: RenderedReport, skip: string[] = []): Promise<Delivery[]> {
  const kind = content.kind;
  const settings = await getReportSettings(db, kind);
  const ctx = { secrets: deps.secrets, outbound: deps.outbound, timeoutMs: deps.channelTimeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS };
  const wanted: Channel[] = [...(settings.slack ? (['slack'] as const) : []), ...(settings.emailTo.length ? (['email'] as const) : [])];
  const out: Delivery[] = [];
  for (const channel of wanted.filter((c) => !skip.includes(c))) {
    try {
      const channelSettings = await getChannelSettings(db, channel);
      if (channel === 'slack') await channels.slack.send(rendered.slack, channelSettings, ctx);
      else {
        const config = { ...(channelSettings.config as object), to: settings.emailTo };
        await channels.email.send({ ...rendered.email, attachments: [await chartAttachment(content)] }, { ...channelSettings, config }, ctx);
      }
      out.push({ channel, ok: true, error: null });
    } catch (err) {
      out.push({ channel, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

const claimedRunRow = z.object({ id: col.integer, sent_channels: z.array(z.string()) });

/**
 * Takes the period: one row per (kind, period), so of any number of workers running the job one
 * sends it. A failed run (or one whose worker died, past the lease) may be taken again.
 */
async function claimPeriod(db: Db, kind: ReportKind, p: ReportPeriod) {
  return queryOne(
    db,
    claimedRunRow,
    sql`insert into report_runs (kind, period_start, period_end) values (${kind}, ${p.from}, ${p.to})
        on conflict (kind, period_start) do update set status = 'sending', attempts = report_runs.attempts + 1, claimed_at = now()
        where report_runs.status = 'failed'
           or (report_runs.status = 'sending' and report_runs.claimed_at < now() - make_interval(mins => ${CLAIM_LEASE_MINUTES}))
        returning id, sent_channels`,
  );
}

/** The scheduled job: the period before `now` (in JOBS_TIMEZONE), sent at most once per period. */
export async function runScheduledReport(db: Db, deps: AlertDeps & { config: { JOBS_TIMEZONE: string } }, kind: ReportKind, now = new Date()) {
  const settings = await getReportSettings(db, kind);
  const period = reportPeriod(kind, now, deps.config.JOBS_TIMEZONE);
  if (!settings.enabled) return { ...period, sent: false, why: 'the report is switched off' };
  const claim = await claimPeriod(db, kind, period);
  if (!claim) return { ...period, sent: false, why: 'already sent, or being sent by another worker' };
  const content = await buildReport(db, kind, period);
  const deliveries = await deliver(db, deps, content, renderReport(content), claim.sent_channels);
  const failed = deliveries.filter((d) => !d.ok);
  const sentNow = deliveries.filter((d) => d.ok).map((d) => d.channel);
  await db.execute(sql`
    update report_runs set status = ${failed.length ? 'failed' : 'sent'}, content = ${JSON.stringify(content)}::jsonb,
      sent_channels = sent_channels || array(select jsonb_array_elements_text(${JSON.stringify(sentNow)}::jsonb)), last_error = ${failed.map((f) => `${f.channel}: ${f.error}`).join('; ') || null},
      sent_at = case when ${failed.length === 0} then now() else sent_at end
    where id = ${claim.id}`);
  // The job's retries send what failed, and only that.
  if (failed.length) throw new Error(`the ${kind} report for ${period.from} was not sent to ${failed.map((f) => `${f.channel} (${f.error})`).join(', ')}`);
  return { ...period, sent: true, channels: sentNow };
}

/**
 * "Send now" from the Alerts page: the report the next scheduled run would send, marked as a
 * preview, to the recipients set now (enabled or not). It claims no period: the scheduled report
 * still goes out. The outcome is the answer (and audited), not an exception.
 */
export async function sendReportNow(db: Db, deps: AlertDeps & { config: { JOBS_TIMEZONE: string } }, actor: Actor, kind: ReportKind, now = new Date()): Promise<SendNowResult> {
  const content = await buildReport(db, kind, reportPeriod(kind, now, deps.config.JOBS_TIMEZONE));
  const rendered = renderReport(content, { preview: true });
  const deliveries = await deliver(db, deps, content, rendered);
  await audit(db, actor, { action: 'report.send_now', targetType: 'report', targetId: kind, after: { from: content.from, to: content.to, deliveries } });
  return { content, text: rendered.text, deliveries };
}
