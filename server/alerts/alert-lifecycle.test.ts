import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cliActor } from '../auth/audit';
import { auditLog } from '../auth/tables';
import { queryOne } from '../db/rows';
import { creditPool } from '../pools/credit-pool';
import { setUsersOutOfCreditsThreshold } from '../pools/settings';
import { startFakeChannels, type FakeChannels } from '../test/fake-channels';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { expectLedgerClean, newUser, reasonOf, setAllowanceBalance } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import type { AlertLevel } from './alert-sink';
import { notify, runAlertDispatch, sendDueDeliveries } from './alert-service';
import { updateChannel } from './channel-settings';
import { checkCreditThresholds } from './credit-thresholds';
import { createRule } from './rules';
import { alertDeliveries, creditAlerts, systemAlerts } from './tables';

let env: TestEnv;
let fakes: FakeChannels;
let admin: Awaited<ReturnType<typeof signedInCaller>>;
let analyst: Awaited<ReturnType<typeof signedInCaller>>;
const db = () => env.deps.dbHandle.db;
const deps = () => ({ secrets: env.deps.secrets, outbound: env.deps.outbound, log: env.deps.log, channelTimeoutMs: 2_000 });
const HOUR = 3600_000;

beforeAll(async () => {
  env = await createTestEnv();
  fakes = await startFakeChannels();
  admin = await signedInCaller(env.deps, 'admin');
  analyst = await signedInCaller(env.deps, 'analyst');
  await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'slack', enabled: true, cooldownSeconds: 900, webhookUrl: fakes.slackUrl('T1/B1/lifecycle') });
  await updateChannel(db(), env.deps.secrets, cliActor, {
    channel: 'email',
    enabled: true,
    cooldownSeconds: 900,
    config: { ...fakes.smtp, secure: false, from: 'alerts@creditdesk.test', to: ['ops@example.com'], user: null },
  });
});
beforeEach(() => fakes.reset());
// Whatever a test did, the books still balance.
afterEach(async () => {
  await expectLedgerClean(db());
  await expectPoolsClean(db());
});
afterAll(async () => {
  await fakes.close();
  await env.close();
});

async function raise(level: AlertLevel, type: string, subject = uniqueId('subj'), message = `${type} happened`) {
  const { id } = await db().transaction((tx) => notify(tx, { type, level, subject, message }));
  return { id, subject, type };
}
const slackFor = (subject: string) => fakes.state.slack.filter((s) => JSON.stringify(s.body).includes(subject));
const mailFor = (subject: string) => fakes.state.mail.filter((m) => m.subject.includes(subject));
const alertRow = async (id: number) => (await db().select().from(systemAlerts).where(eq(systemAlerts.id, id)))[0]!;
const kindsOf = async (alertId: number) =>
  (await db().select().from(alertDeliveries).where(eq(alertDeliveries.alertId, alertId)).orderBy(alertDeliveries.id)).map((d) => `${d.kind}:${d.channel}:${d.status}`);

describe('[ALERTS] alert on the crossing, resolve by itself', () => {
  it('a low pool sends one notice however often the check runs, and one resolved notice to the same channels once refilled', async () => {
    const provider = await seedPool(env.deps, 5, { autoRefillThreshold: 10 });
    for (let run = 0; run < 3; run++) {
      await checkCreditThresholds(db());
      await runAlertDispatch(db(), deps());
    }
    const [alert] = await db()
      .select()
      .from(systemAlerts)
      .where(and(eq(systemAlerts.type, 'pool_low'), eq(systemAlerts.subject, provider)));
    expect(alert).toMatchObject({ status: 'open', occurrences: 3 });
    expect(slackFor(provider)).toHaveLength(1);
    // A warning goes to Slack only: email never got it, so it gets no resolved notice either.
    expect(mailFor(provider)).toHaveLength(0);

    await creditPool(db(), provider, 100, { reason: 'refilled by hand' });
    await checkCreditThresholds(db());
    const resolved = await alertRow(alert!.id);
    expect(resolved).toMatchObject({ status: 'resolved', resolvedBy: 'system', needsRouting: true });
    expect(resolved.resolvedAt).not.toBeNull();

    await runAlertDispatch(db(), deps());
    const slack = slackFor(provider);
    expect(slack).toHaveLength(2);
    expect(String(slack[1]!.body.text)).toBe(`[RESOLVED] pool_low: ${provider}: ${alert!.message}`);
    expect(mailFor(provider)).toHaveLength(0);
    expect(await kindsOf(alert!.id)).toEqual(['firing:in_app:sent', 'firing:slack:sent', 'resolved:slack:sent']);

    // Nothing more to say: further runs send nothing, and the next crossing is a new alert.
    await runAlertDispatch(db(), deps());
    expect(slackFor(provider)).toHaveLength(2);
  });

  it('an error alert resolved by an admin sends its resolved notice to Slack and email', async () => {
    const { id, subject } = await raise('error', 'provider_unhealthy');
    await runAlertDispatch(db(), deps());
    await admin.caller.admin.alerts.resolve({ id: String(id), note: 'fixed the key' });
    await runAlertDispatch(db(), deps());
    expect(slackFor(subject).map((s) => String(s.body.text).slice(0, 10))).toEqual(['[ERROR] pr', '[RESOLVED]']);
    expect(mailFor(subject).map((m) => m.subject)).toEqual([`[Creditdesk ERROR] provider_unhealthy: ${subject}`, `[Creditdesk RESOLVED] provider_unhealthy: ${subject}`]);
  });

  it('only one open alert per type and subject exists, however many raise it at once (the partial unique index)', async () => {
    const subject = uniqueId('race');
    await Promise.all(Array.from({ length: 20 }, () => raise('warning', 'pool_low', subject)));
    const rows = await db().select().from(systemAlerts).where(eq(systemAlerts.subject, subject));
    expect(rows.map((r) => [r.status, r.occurrences])).toEqual([['open', 20]]);
    const dup = db().execute(sql`insert into system_alerts (type, level, subject, message) values ('pool_low', 'warning', ${subject}, 'second')`);
    await expect(dup).rejects.toMatchObject({ cause: { constraint_name: 'system_alerts_open_uq' } });
  });

  it("the dashboard's active count shows unresolved warnings and worse, not info or resolved alerts", async () => {
    const count = async () => (await admin.caller.admin.dashboard()).activeAlertCount;
    const before = await count();
    await raise('info', 'pool_refilled');
    expect(await count()).toBe(before);
    const { id } = await raise('error', 'provider_unhealthy');
    expect(await count()).toBe(before + 1);
    await admin.caller.admin.alerts.resolve({ id: String(id) });
    expect(await count()).toBe(before);
  });
});

describe('[ALERTS] repeat interval', () => {
  it('a persistent alert is not re-sent by repeats, and is reminded once after the default 4 h (injected clock)', async () => {
    const t0 = new Date(Date.now() + 1000);
    const { id, subject, type } = await raise('error', 'pool_refill_failed');
    await runAlertDispatch(db(), deps(), t0);
    expect(slackFor(subject)).toHaveLength(1);
    expect(mailFor(subject)).toHaveLength(1);

    await raise('error', type, subject);
    await runAlertDispatch(db(), deps(), new Date(t0.getTime() + 4 * HOUR - 1000));
    expect(slackFor(subject)).toHaveLength(1);
    expect(mailFor(subject)).toHaveLength(1);

    const t1 = new Date(t0.getTime() + 4 * HOUR);
    await runAlertDispatch(db(), deps(), t1);
    expect(String(slackFor(subject)[1]!.body.text)).toMatch(/^\[ERROR, still open\] pool_refill_failed/);
    expect(mailFor(subject)[1]!.subject).toBe(`[Creditdesk ERROR, still open] pool_refill_failed: ${subject}`);
    expect((await alertRow(id)).lastNotifiedAt).toEqual(t1);
    expect(await kindsOf(id)).toEqual(['firing:in_app:sent', 'firing:slack:sent', 'firing:email:sent', 'reminder:slack:sent', 'reminder:email:sent']);

    // The next reminder is 4 h after that one, not at every run.
    await runAlertDispatch(db(), deps(), new Date(t1.getTime() + HOUR));
    expect(slackFor(subject)).toHaveLength(2);
  });

  it("a rule's repeat interval sets its type's reminders; an acknowledged alert is not reminded", async () => {
    const type = `custom_${uniqueId('r').replace('-', '_')}`;
    const rule = await admin.caller.admin.alerts.rules.create({ alertType: type, notificationChannels: [], repeatIntervalSeconds: 600 });
    expect(rule.repeatIntervalSeconds).toBe(600);
    const t0 = new Date(Date.now() + 1000);
    const { subject } = await raise('warning', type);
    const acked = await raise('warning', type);
    await runAlertDispatch(db(), deps(), t0);
    await admin.caller.admin.alerts.acknowledge({ id: String(acked.id) });
    await runAlertDispatch(db(), deps(), new Date(t0.getTime() + 599_000));
    expect(slackFor(subject)).toHaveLength(1);
    await runAlertDispatch(db(), deps(), new Date(t0.getTime() + 600_000));
    expect(slackFor(subject)).toHaveLength(2);
    expect(slackFor(acked.subject)).toHaveLength(1);
    expect(await reasonOf(admin.caller.admin.alerts.rules.create({ alertType: type, repeatIntervalSeconds: 59 }))).toBe('BAD_REQUEST');
    const [stored] = await db()
      .select()
      .from(creditAlerts)
      .where(eq(creditAlerts.id, Number(rule.id)));
    expect(stored!.repeatIntervalSeconds).toBe(600);
  });
});

describe('[ALERTS] silences', () => {
  it('a silenced subject is recorded but not sent; other subjects are; ending the silence sends what it held back', async () => {
    const type = 'provider_unhealthy';
    const quiet = uniqueId('maint');
    const endsAt = new Date(Date.now() + 2 * HOUR).toISOString();
    const silence = await admin.caller.admin.alerts.silences.create({ alertType: type, subject: quiet, endsAt, reason: 'provider maintenance' });
    expect(silence).toMatchObject({ alertType: type, subject: quiet, reason: 'provider maintenance', endedAt: null, endsAt });
    expect((await analyst.caller.admin.alerts.silences.list()).map((s) => s.id)).toContain(silence.id);

    const held = await raise('error', type, quiet);
    const loud = await raise('error', type);
    const run = await runAlertDispatch(db(), deps());
    expect(run.silenced).toBeGreaterThanOrEqual(1);
    expect(slackFor(quiet)).toHaveLength(0);
    expect(mailFor(quiet)).toHaveLength(0);
    expect(slackFor(loud.subject)).toHaveLength(1);
    expect(await alertRow(held.id)).toMatchObject({ status: 'open', silenceId: Number(silence.id), lastNotifiedAt: null });
    expect(await kindsOf(held.id)).toEqual([]);
    // Still silenced on the next runs.
    await runAlertDispatch(db(), deps());
    expect(slackFor(quiet)).toHaveLength(0);

    expect(await reasonOf(analyst.caller.admin.alerts.silences.end({ id: silence.id }))).toBe('FORBIDDEN');
    const ended = await admin.caller.admin.alerts.silences.end({ id: silence.id });
    expect(ended.endedBy).not.toBeNull();
    expect((await admin.caller.admin.alerts.silences.list()).map((s) => s.id)).not.toContain(silence.id);
    expect(await reasonOf(admin.caller.admin.alerts.silences.end({ id: silence.id }))).toBe('CONFLICT');

    await runAlertDispatch(db(), deps());
    expect(slackFor(quiet)).toHaveLength(1);
    expect(String(slackFor(quiet)[0]!.body.text)).toMatch(/^\[ERROR\] provider_unhealthy/);
    expect(mailFor(quiet)).toHaveLength(1);

    const audits = await db().select().from(auditLog).where(eq(auditLog.targetId, silence.id));
    expect(
      audits
        .filter((a) => a.targetType === 'alert_silence')
        .map((a) => a.action)
        .sort(),
    ).toEqual(['alert.silence.create', 'alert.silence.end']);
  });

  it('a silence without a subject covers every subject of its type until it ends by itself (injected clock)', async () => {
    const type = `custom_${uniqueId('s').replace('-', '_')}`;
    const endsAt = new Date(Date.now() + HOUR);
    await admin.caller.admin.alerts.silences.create({ alertType: type, endsAt: endsAt.toISOString(), reason: 'noisy during migration' });
    const a = await raise('warning', type);
    const b = await raise('warning', type);
    await runAlertDispatch(db(), deps());
    expect(slackFor(a.subject)).toHaveLength(0);
    expect(slackFor(b.subject)).toHaveLength(0);
    await runAlertDispatch(db(), deps(), new Date(endsAt.getTime() + 1000));
    expect(slackFor(a.subject)).toHaveLength(1);
    expect(slackFor(b.subject)).toHaveLength(1);
  });

  it('a silence must end in the future and have a reason; analysts cannot create one', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    expect(await reasonOf(admin.caller.admin.alerts.silences.create({ alertType: 'pool_low', endsAt: past, reason: 'x' }))).toBe('BAD_REQUEST');
    const later = new Date(Date.now() + HOUR).toISOString();
    expect(await reasonOf(admin.caller.admin.alerts.silences.create({ alertType: 'pool_low', endsAt: later, reason: ' ' }))).toBe('BAD_REQUEST');
    expect(await reasonOf(analyst.caller.admin.alerts.silences.create({ alertType: 'pool_low', endsAt: later, reason: 'x' }))).toBe('FORBIDDEN');
  });
});

describe('[ALERTS] users out of credits', () => {
  it('counts paying tiers only, one alert per tier over the threshold, and resolves when the tier is back under it', async () => {
    for (let i = 0; i < 15; i++) await setAllowanceBalance(db(), await newUser(db(), 'free'), 0);
    const plus: string[] = [];
    for (let i = 0; i < 3; i++) {
      const u = await newUser(db(), 'plus');
      await setAllowanceBalance(db(), u, 0);
      plus.push(u);
    }
    await setAllowanceBalance(db(), await newUser(db(), 'pro'), 0);
    await setUsersOutOfCreditsThreshold(db(), cliActor, { usersOutOfCreditsThreshold: 2, reason: 'lifecycle test' });
    try {
      const raised = (await checkCreditThresholds(db())).filter((a) => a.type === 'users_out_of_credits');
      expect(raised.map((a) => [a.subject, a.metadata])).toEqual([['plus', { tier: 'plus', count: 3, threshold: 2 }]]);
      const open = await db()
        .select()
        .from(systemAlerts)
        .where(and(eq(systemAlerts.type, 'users_out_of_credits'), eq(systemAlerts.status, 'open')));
      expect(open.map((a) => a.subject)).toEqual(['plus']);

      await setAllowanceBalance(db(), plus[0]!, 5);
      expect((await checkCreditThresholds(db())).filter((a) => a.type === 'users_out_of_credits')).toEqual([]);
      const [closed] = await db().select().from(systemAlerts).where(eq(systemAlerts.id, open[0]!.id));
      expect(closed).toMatchObject({ status: 'resolved', resolvedBy: 'system' });
    } finally {
      await setUsersOutOfCreditsThreshold(db(), cliActor, { usersOutOfCreditsThreshold: 10, reason: 'lifecycle test' });
    }
  });
});

describe('[ALERTS] Slack', () => {
  it('a Slack message carries a top-level preview text and Block Kit blocks', async () => {
    const { subject } = await raise('critical', 'pool_emergency_reserve', uniqueId('fal'), 'The <fal> pool draws its reserve & more');
    await runAlertDispatch(db(), deps());
    const [msg] = slackFor(subject);
    // The preview is read as mrkdwn too (Slack parses mentions in it): escaped as the message block is.
    expect(msg!.body.text).toBe(`[CRITICAL] pool_emergency_reserve: ${subject}: The &lt;fal&gt; pool draws its reserve &amp; more`);
    const blocks = msg!.body.blocks as { type: string; text?: { type: string; text: string } }[];
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(blocks[0]!.text).toMatchObject({ type: 'plain_text', text: `:rotating_light: CRITICAL: pool_emergency_reserve: ${subject}` });
    // Escaped, so a message cannot open a link or mention in Slack.
    expect(blocks[1]!.text).toEqual({ type: 'mrkdwn', text: 'The &lt;fal&gt; pool draws its reserve &amp; more' });
  });

  it("a 429 is retried no sooner than its Retry-After, by the delivery's next attempt (no sleep), then delivered", async () => {
    fakes.state.rateLimit.slack = '120';
    const { id, subject } = await raise('warning', 'pool_low');
    const started = Date.now();
    await runAlertDispatch(db(), deps());
    expect(Date.now() - started).toBeLessThan(5_000);
    const [slack] = await db()
      .select()
      .from(alertDeliveries)
      .where(and(eq(alertDeliveries.alertId, id), eq(alertDeliveries.channel, 'slack')));
    expect(slack).toMatchObject({ status: 'pending', attempts: 1 });
    expect(slack!.lastError).toBe('HTTP 429 Too Many Requests (retry after 120 s)');
    const wait = await queryOne(db(), z.object({ s: z.number() }), sql`select extract(epoch from next_attempt_at - now())::float8 as s from alert_deliveries where id = ${slack!.id}`);
    // The backoff alone would wait 30 s.
    expect(wait!.s).toBeGreaterThan(115);
    expect(wait!.s).toBeLessThanOrEqual(120);

    fakes.state.rateLimit.slack = null;
    await sendDueDeliveries(db(), deps());
    expect(slackFor(subject)).toHaveLength(0);
    await db().execute(sql`update alert_deliveries set next_attempt_at = now() where id = ${slack!.id}`);
    await sendDueDeliveries(db(), deps());
    expect(slackFor(subject)).toHaveLength(1);
  });
});

// A rule created through the procedure with no repeat interval gets the default.
describe('[ALERTS] rules', () => {
  it('a rule without a repeat interval reminds every 4 h', async () => {
    const rule = await createRule(db(), cliActor, { alertType: `custom_${uniqueId('d').replace('-', '_')}`, thresholdValue: null, notificationChannels: [], isActive: true });
    expect(rule.repeatIntervalSeconds).toBe(4 * 3600);
  });
});
