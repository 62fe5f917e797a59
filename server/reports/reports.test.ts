import pino from 'pino';
import sharp from 'sharp';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { reportContentSchema } from '../../shared/reports';
import { updateChannel } from '../alerts/channel-settings';
import { recordAlert } from '../alerts/alert-sink';
import { cliActor } from '../auth/audit';
import { loadConfig } from '../config';
import { addDays, today } from '../analytics/days';
import { col, countRow, queryOne, queryRows } from '../db/rows';
import { closeDeps, createDeps } from '../deps';
import { reportJobs } from '../jobs/report-jobs';
import { runEnhancement } from '../providers/gateway';
import { startFakeChannels, type FakeChannels } from '../test/fake-channels';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser, setAllowanceBalance } from '../test/ledger-helpers';
import { expectPoolsClean } from '../test/pool-helpers';
import { configureProviders } from '../test/provider-helpers';
import { CHART_CID, CHART_LAYOUT } from './report-chart';
import { previousPeriod, reportPeriod } from './report-period';
import { updateReportSettings } from './report-settings';

let env: TestEnv;
let fakes: FakeChannels;
let images: Awaited<ReturnType<typeof startImageServer>>;
const closers: (() => Promise<void>)[] = [];
const names = { bad: uniqueId('bad').toLowerCase(), good: uniqueId('good').toLowerCase() };
const users: { pro: string; plus: string } = { pro: '', plus: '' };
const day = today();
const db = () => env.deps.dbHandle.db;
const job = (name: string) => reportJobs.find((j) => j.name === name)!;
const reportRunRow = z.object({ kind: col.text, period_start: col.text, status: col.text, content: reportContentSchema });
const runs = () => queryRows(db(), reportRunRow, sql`select kind, period_start::text, status, content from report_runs order by id`);

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  [fakes, images] = await Promise.all([startFakeChannels(), startImageServer()]);
  const [bad, good] = await Promise.all([startFakeProvider('fal'), startFakeProvider('fal')]);
  closers.push(fakes.close, images.close, bad.close, good.close);
  bad.state.behaviour = 'error500';
  await configureProviders(env.deps, [
    { name: names.bad, kind: 'fal', baseUrl: bad.url, costPerCredit: '0.02' },
    { name: names.good, kind: 'fal', baseUrl: good.url, costPerCredit: '0.03' },
  ]);
  await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'slack', enabled: true, cooldownSeconds: 900, webhookUrl: fakes.slackUrl('T1/B1/reports') });
  await updateChannel(db(), env.deps.secrets, cliActor, {
    channel: 'email',
    enabled: true,
    cooldownSeconds: 900,
    config: { ...fakes.smtp, secure: false, from: 'alerts@creditdesk.test', to: ['ops@example.com'], user: null },
  });
  for (const kind of ['daily', 'weekly'] as const) await updateReportSettings(db(), cliActor, { kind, enabled: true, slack: true, emailTo: ['reports@example.com'] });

  // Today: a pro user enhances three times from their allowance, a plus user with none left twice on the platform pool.
  users.pro = await newUser(db(), 'pro');
  users.plus = await newUser(db(), 'plus');
  await setAllowanceBalance(db(), users.plus, 0);
  const enhance = (userId: string) => runEnhancement(env.deps.gateway, { userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() });
  for (const u of [users.pro, users.pro, users.pro, users.plus, users.plus]) expect(await enhance(u)).toMatchObject({ status: 'enhanced', provider: names.good });
  await recordAlert(db(), { type: 'report_probe', level: 'warning', subject: 'x', message: 'probe', metadata: {} });
});
beforeEach(() => fakes.reset());
// Whatever a test did, the books still balance.
afterEach(async () => {
  await expectLedgerClean(db());
  await expectPoolsClean(db());
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  await env.close();
});

/** The PNG's bars read back off its pixels: per day, how many pixel rows of each bar colour its slot's middle column shows. */
async function barRows(png: Buffer, days: number) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const { width, height, pad, colours } = CHART_LAYOUT;
  const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const slot = (width - pad.left - pad.right) / days;
  return Array.from({ length: days }, (_, i) => {
    const x = Math.round(pad.left + i * slot + slot / 2);
    const rows = (hex: string) => {
      const want = rgb(hex);
      let n = 0;
      for (let y = pad.top; y < height - pad.bottom; y++) {
        const at = (y * info.width + x) * info.channels;
        if (want.every((v, c) => Math.abs(data[at + c]! - v) <= 4)) n++;
      }
      return n;
    };
    return { allowance: rows(colours.allowance), overflow: rows(colours.overflow), before: rows(colours.before) };
  });
}

/** What the ledger and provider_calls say about today, independently of the analytics code. */
async function ledgerToday() {
  const r = await queryOne(
    db(),
    z.object({ requests: col.integer, ok: col.integer, credits: col.integer, overflow: col.integer, cost: col.decimal }),
    sql`select count(*)::int as requests, count(*) filter (where transaction_type in ('consumption','capture'))::int as ok,
          coalesce(sum(credits_used) filter (where transaction_type in ('consumption','capture')), 0)::int as credits,
          coalesce(sum(credits_used) filter (where transaction_type in ('consumption','capture') and source = 'platform_pool'), 0)::int as overflow,
          coalesce(sum(cost_usd) filter (where transaction_type in ('consumption','capture')), 0)::numeric(14,6)::text as cost
        from credit_transactions where transaction_type in ('consumption','capture','release') and created_at >= ${day}::date`,
  );
  const alerts = await queryOne(db(), countRow, sql`select count(*)::int as n from system_alerts where created_at >= ${day}::date`);
  return { ...r!, alerts: alerts!.n };
}

describe('[REPORTS] the daily report', () => {
  it("covers yesterday (by JOBS_TIMEZONE) with the ledger's figures, goes to Slack (Block Kit with text) and email (HTML + text), once per period", async () => {
    const asOf = `${addDays(day, 1)}T08:00:00Z`;
    expect(await job('daily-report').run(env.deps, { asOf })).toMatchObject({ from: day, to: day, sent: true, channels: ['slack', 'email'] });

    const ledger = await ledgerToday();
    const [run] = await runs();
    expect(run).toMatchObject({ kind: 'daily', period_start: day, status: 'sent' });
    const f = run!.content.figures;
    expect(f).toMatchObject({
      requests: ledger.requests,
      successfulRequests: ledger.ok,
      credits: ledger.credits,
      overflowCredits: ledger.overflow,
      overflowShare: ledger.overflow / ledger.credits,
      costUsd: ledger.cost,
      alertsOpened: ledger.alerts,
      alertsResolved: 0,
      mostFailing: { provider: names.bad, failures: 5 },
    });
    expect([ledger.requests, ledger.credits, ledger.overflow, ledger.cost]).toEqual([5, 5, 2, '0.150000']);
    expect(f.providers).toEqual([
      { provider: names.bad, calls: 5, failures: 5, successRate: 0, p95Ms: expect.any(Number), costUsd: '0.000000' },
      { provider: names.good, calls: 5, failures: 0, successRate: 1, p95Ms: expect.any(Number), costUsd: '0.150000' },
    ]);
    expect(f.topUsers.map((u) => [u.userId, u.requests])).toEqual([
      [users.pro, 3],
      [users.plus, 2],
    ]);
    expect(run!.content.pools.map((p) => p.provider).sort()).toEqual([names.bad, names.good].sort());
    expect(run!.content.previous).toBeNull();

    const [slack] = fakes.state.slack;
    expect(fakes.state.slack).toHaveLength(1);
    expect(slack!.path).toBe('/slack/T1/B1/reports');
    expect(slack!.body.text).toBe(`Creditdesk daily report, ${day}: 5 requests, 5 credits, $0.15 provider cost`);
    const blocks = slack!.body.blocks as { type: string; text: { text: string } }[];
    expect(blocks[0]).toMatchObject({ type: 'header', text: { text: `Creditdesk daily report, ${day}` } });
    const all = blocks.map((b) => b.text.text).join('\n');
    expect(all).toContain('Overflow to platform pools: 2 credits, 40.0% of credits');
    expect(all).toContain(`${names.bad}: 5 calls, success 0.0%`);
    expect(all).toContain(`${names.good}: 5 calls, success 100.0%`);
    expect(all).toContain(`Most failing: ${names.bad} (5 failed calls)`);
    const [mail] = fakes.state.mail;
    expect(fakes.state.mail).toHaveLength(1);
    expect(mail).toMatchObject({ subject: `Creditdesk daily report, ${day}`, to: ['reports@example.com'] });
    // A plain-text part, an HTML part showing the chart inline by its content id, and the chart itself.
    expect(mail!.parts.map((p) => p.contentType)).toEqual(['text/plain', 'text/html', 'image/png']);
    const [textPart, htmlPart, image] = mail!.parts.map((p) => p.body);
    const text = textPart!.toString('utf8').replace(/\r\n/g, '\n');
    expect(text).toContain(`Creditdesk daily report, ${day}\n5 requests, 5 credits, $0.15 provider cost`);
    expect(text).toContain('Overflow to platform pools: 2 credits, 40.0% of credits');
    expect(text).not.toContain('<');
    const html = htmlPart!.toString('utf8');
    expect(html).toContain(`<img src="cid:${CHART_CID}" width="600" height="220" alt="Credits per day over the last 14 days">`);
    expect(html).toContain('<li>Overflow to platform pools: 2 credits, 40.0% of credits</li>');
    expect(mail!.parts[2]).toMatchObject({ contentId: CHART_CID });
    expect(mail!.parts[2]!.headers.get('content-disposition')).toMatch(/^inline/);
    // A real PNG of the 14 days to the period's end, fed by the same figures as the text, which match the ledger.
    expect(await sharp(image).metadata()).toMatchObject({ format: 'png', width: 600, height: 220 });
    expect(run!.content.days).toHaveLength(14);
    expect(run!.content.days.at(-1)).toEqual({ day, credits: ledger.credits, overflowCredits: ledger.overflow });
    expect(run!.content.days[0]!.day).toBe(addDays(day, -13));
    expect(run!.content.days.slice(0, -1).every((d) => d.credits === 0)).toBe(true);
    // Read back off the pixels: 13 empty days, then today's bar, the tallest, 3 allowance credits under 2 pool credits.
    const bars = await barRows(image!, 14);
    expect(bars.slice(0, -1).every((b) => b.allowance + b.overflow + b.before === 0)).toBe(true);
    const plotRows = CHART_LAYOUT.height - CHART_LAYOUT.pad.top - CHART_LAYOUT.pad.bottom;
    const last = bars.at(-1)!;
    expect(last.before).toBe(0);
    expect(Math.abs(last.allowance - ((ledger.credits - ledger.overflow) / ledger.credits) * plotRows)).toBeLessThanOrEqual(1.5);
    expect(Math.abs(last.overflow - (ledger.overflow / ledger.credits) * plotRows)).toBeLessThanOrEqual(1.5);

    // The same period again (a retry, a second scheduler tick): nothing more is sent.
    expect(await job('daily-report').run(env.deps, { asOf: `${addDays(day, 1)}T09:30:00Z` })).toMatchObject({ sent: false });
    expect(fakes.state.slack).toHaveLength(1);
    expect(await runs()).toHaveLength(1);
  });

  it('two workers racing for the same period send one report', async () => {
    const second = await createDeps(loadConfig(env.env), pino({ level: 'silent' }));
    try {
      const asOf = `${addDays(day, 2)}T08:00:00Z`;
      const results = await Promise.all([job('daily-report').run(env.deps, { asOf }), job('daily-report').run(second, { asOf })]);
      expect(results.map((r) => (r as { sent: boolean }).sent).sort()).toEqual([false, true]);
      expect(fakes.state.slack).toHaveLength(1);
      expect(fakes.state.mail).toHaveLength(1);
      expect((await runs()).filter((r) => r.period_start === addDays(day, 1))).toHaveLength(1);
    } finally {
      await closeDeps(second);
    }
  });
});

describe('[REPORTS] the weekly report', () => {
  it('covers the last whole week with the trend against the week before', async () => {
    const monday = addDays(day, 7 - ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7));
    expect(await job('weekly-report').run(env.deps, { asOf: `${monday}T08:00:00Z` })).toMatchObject({ from: addDays(monday, -7), to: addDays(monday, -1), sent: true });
    const run = (await runs()).find((r) => r.kind === 'weekly')!;
    const ledger = await ledgerToday();
    expect(run.content.figures).toMatchObject({ requests: ledger.requests, credits: ledger.credits, costUsd: ledger.cost, overflowCredits: ledger.overflow });
    expect(run.content.previous).toMatchObject({ requests: 0, credits: 0, costUsd: '0.000000' });
    const text = JSON.stringify(fakes.state.slack[0]!.body);
    expect(text).toContain('Requests: 5 (5 enhanced) (new vs the week before)');
    expect(fakes.state.mail).toHaveLength(1);
    // Its chart: the 14 days to the week's Sunday, today's credits in the week's colours (this test runs
    // the week early, so the days after today are not in the series yet).
    const mail = fakes.state.mail[0]!;
    expect(mail.parts.map((p) => p.contentType)).toEqual(['text/plain', 'text/html', 'image/png']);
    const days = run.content.days.map((d) => d.day);
    expect([days[0], days.at(-1)]).toEqual([addDays(monday, -14), day]);
    const bars = await barRows(mail.parts[2]!.body, days.length);
    const plotRows = CHART_LAYOUT.height - CHART_LAYOUT.pad.top - CHART_LAYOUT.pad.bottom;
    const todays = bars[run.content.days.findIndex((d) => d.day === day)]!;
    expect(Math.abs(todays.allowance - ((ledger.credits - ledger.overflow) / ledger.credits) * plotRows)).toBeLessThanOrEqual(1.5);
    expect(Math.abs(todays.overflow - (ledger.overflow / ledger.credits) * plotRows)).toBeLessThanOrEqual(1.5);
    expect(bars.reduce((n, b) => n + b.before, 0)).toBe(0);
  });
});

describe('[REPORTS] send now', () => {
  it('sends a preview to the recipients at once, answers its text, and claims no period', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const before = (await runs()).length;
    const result = await caller.admin.reports.sendNow({ kind: 'daily' });
    expect(result.deliveries).toEqual([
      { channel: 'slack', ok: true, error: null },
      { channel: 'email', ok: true, error: null },
    ]);
    expect(result.text).toMatch(/^Preview: Creditdesk daily report, /);
    expect(fakes.state.slack[0]!.body.text).toMatch(/^Preview: Creditdesk daily report/);
    expect(fakes.state.mail[0]!.subject).toMatch(/^Preview: /);
    expect(await runs()).toHaveLength(before);
    const audited = await queryRows(db(), z.object({ id: col.id }), sql`select id from audit_log where action = 'report.send_now'`);
    expect(audited).toHaveLength(1);
  });
});

describe('[REPORTS] periods follow the calendar of JOBS_TIMEZONE', () => {
  it('yesterday and the last whole Monday-to-Sunday week, where the schedule runs', () => {
    const lateEvening = new Date('2026-12-02T02:00:00Z'); // still 1 December in New York
    expect(reportPeriod('daily', lateEvening, 'UTC')).toEqual({ from: '2026-12-01', to: '2026-12-01' });
    expect(reportPeriod('daily', lateEvening, 'America/New_York')).toEqual({ from: '2026-11-30', to: '2026-11-30' });
    expect(reportPeriod('weekly', new Date('2026-12-07T08:00:00+01:00'), 'Europe/Berlin')).toEqual({ from: '2026-11-30', to: '2026-12-06' });
    expect(previousPeriod({ from: '2026-11-30', to: '2026-12-06' })).toEqual({ from: '2026-11-23', to: '2026-11-29' });
  });
});
