import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cliActor } from '../auth/audit';
import { queryOne } from '../db/rows';
import { startFakeChannels, type FakeChannels } from '../test/fake-channels';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { resolveCleared, type AlertLevel } from './alert-sink';
import { notify, runAlertDispatch, sendDueDeliveries } from './alert-service';
import { updateChannel } from './channel-settings';
import { backoffSeconds, MAX_ATTEMPTS } from './deliveries';
import { createRule } from './rules';
import { alertDeliveries, creditAlerts, systemAlerts } from './tables';

let env: TestEnv;
let fakes: FakeChannels;
const db = () => env.deps.dbHandle.db;
const deps = () => ({ secrets: env.deps.secrets, outbound: env.deps.outbound, log: env.deps.log, channelTimeoutMs: 2_000 });

beforeAll(async () => {
  env = await createTestEnv();
  fakes = await startFakeChannels();
  await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'slack', enabled: true, cooldownSeconds: 900, webhookUrl: fakes.slackUrl('T1/B1/hook-secret') });
  await updateChannel(db(), env.deps.secrets, cliActor, {
    channel: 'email',
    enabled: true,
    cooldownSeconds: 900,
    config: { ...fakes.smtp, secure: false, from: 'alerts@creditdesk.test', to: ['ops@example.com', 'oncall@example.com'], user: 'mailer' },
    password: 'smtp-password',
  });
  await updateChannel(db(), env.deps.secrets, cliActor, {
    channel: 'sms',
    enabled: true,
    cooldownSeconds: 900,
    config: { url: fakes.smsUrl, recipients: ['+4915112345678'] },
    token: 'sms-token',
  });
});
beforeEach(() => fakes.reset());
afterAll(async () => {
  await fakes.close();
  await env.close();
});

/** Raises one alert in its own transaction, as a request would, and returns its subject. */
async function raise(level: AlertLevel, type = 'provider_unhealthy', subject = uniqueId('subj'), message = `${type} happened`) {
  const { id } = await db().transaction((tx) => notify(tx, { type, level, subject, message, metadata: { probe: true } }));
  return { id, subject, type };
}

const deliveriesOf = (alertId: number) => db().select().from(alertDeliveries).where(eq(alertDeliveries.alertId, alertId)).orderBy(alertDeliveries.channel);
const deliveryOn = async (alertId: number, channel: string) =>
  (
    await db()
      .select()
      .from(alertDeliveries)
      .where(and(eq(alertDeliveries.alertId, alertId), eq(alertDeliveries.channel, channel)))
  )[0]!;
const slackFor = (subject: string) => fakes.state.slack.filter((s) => JSON.stringify(s.body).includes(subject));
const mailFor = (subject: string) => fakes.state.mail.filter((m) => m.subject.includes(subject));
const headerOf = (msg: { body: Record<string, unknown> }) => (msg.body.blocks as { text: { text: string } }[])[0]!.text.text;
const makeDue = (id: number) => db().execute(sql`update alert_deliveries set next_attempt_at = now() - interval '1 second' where id = ${id}`);
const secondsUntilNextAttempt = async (id: number) =>
  (await queryOne(db(), z.object({ s: z.number() }), sql`select extract(epoch from next_attempt_at - now())::float8 as s from alert_deliveries where id = ${id}`))!.s;

describe('[ALERTS] routing by level', () => {
  it('an error alert reaches Slack and email with the seed payload, after commit only', async () => {
    const { id, subject } = await raise('error', 'provider_unhealthy', uniqueId('fal'), 'fal failed its health check');
    // The request only wrote the outbox row: nothing was sent or queued yet.
    expect(await deliveriesOf(id)).toHaveLength(0);
    expect(slackFor(subject)).toHaveLength(0);

    await runAlertDispatch(db(), deps());
    const [alert] = await db().select().from(systemAlerts).where(eq(systemAlerts.id, id));
    expect(alert!.needsRouting).toBe(false);

    const [slack] = slackFor(subject);
    expect(slack!.path).toBe('/slack/T1/B1/hook-secret');
    const ts = Math.floor(alert!.lastSeenAt.getTime() / 1000);
    expect(slack!.body).toEqual({
      text: `[ERROR] provider_unhealthy: ${subject}: fal failed its health check`,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: `:red_circle: ERROR: provider_unhealthy: ${subject}`, emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: 'fal failed its health check' } },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'Level: *error*' },
            { type: 'mrkdwn', text: `<!date^${ts}^{date_short_pretty} {time}|${alert!.lastSeenAt.toISOString()}>` },
            { type: 'mrkdwn', text: 'Occurrences: 1' },
          ],
        },
      ],
    });
    const [mail] = mailFor(subject);
    expect(mail).toMatchObject({
      subject: `[Creditdesk ERROR] provider_unhealthy: ${subject}`,
      from: 'alerts@creditdesk.test',
      to: ['ops@example.com', 'oncall@example.com'],
      authUser: 'mailer',
      authPassword: 'smtp-password',
    });
    expect(mail!.text).toContain('fal failed its health check');
    expect(mail!.text).toContain('Level: error');
    expect((await deliveriesOf(id)).map((d) => [d.channel, d.status, d.attempts])).toEqual([
      ['email', 'sent', 1],
      ['in_app', 'sent', 1],
      ['slack', 'sent', 1],
    ]);
  });

  it('a critical alert has the siren on Slack and CRITICAL in the email subject', async () => {
    const { subject } = await raise('critical', 'pool_emergency_reserve');
    await runAlertDispatch(db(), deps());
    expect(headerOf(slackFor(subject)[0]!)).toMatch(/^:rotating_light: CRITICAL: /);
    expect(mailFor(subject)[0]!.subject).toBe(`[Creditdesk CRITICAL] pool_emergency_reserve: ${subject}`);
  });

  it('a warning reaches Slack only (orange), not email', async () => {
    const { id, subject } = await raise('warning', 'pool_low');
    await runAlertDispatch(db(), deps());
    expect(headerOf(slackFor(subject)[0]!)).toMatch(/^:large_orange_circle: WARNING: /);
    expect(mailFor(subject)).toHaveLength(0);
    expect((await deliveriesOf(id)).map((d) => d.channel)).toEqual(['in_app', 'slack']);
  });

  it('an info alert is in-app only', async () => {
    const { id, subject } = await raise('info', 'pool_refilled');
    await runAlertDispatch(db(), deps());
    expect(slackFor(subject)).toHaveLength(0);
    expect(mailFor(subject)).toHaveLength(0);
    expect((await deliveriesOf(id)).map((d) => [d.channel, d.status])).toEqual([['in_app', 'sent']]);
  });

  it('an active rule for the type adds its channels (SMS with its token, Slack in blue for info) and records when it triggered; an inactive one adds nothing', async () => {
    const type = `custom_${uniqueId('t').replace('-', '_')}`;
    const rule = await createRule(db(), cliActor, { alertType: type, thresholdValue: null, notificationChannels: ['sms', 'slack'], isActive: true });
    const off = await createRule(db(), cliActor, { alertType: type, thresholdValue: null, notificationChannels: ['email'], isActive: false });
    const { id, subject } = await raise('info', type, uniqueId('subj'), 'users are running dry');
    await runAlertDispatch(db(), deps());
    expect((await deliveriesOf(id)).map((d) => d.channel)).toEqual(['in_app', 'slack', 'sms']);
    expect(headerOf(slackFor(subject)[0]!)).toMatch(/^:large_blue_circle: INFO: /);
    const sms = fakes.state.sms.filter((s) => String(s.body.message).includes(subject));
    expect(sms).toEqual([
      {
        path: '/sms',
        authorization: 'Bearer sms-token',
        body: { to: ['+4915112345678'], message: `[Creditdesk INFO] ${type}: ${subject}: users are running dry` },
      },
    ]);
    const rules = await db().select().from(creditAlerts).where(eq(creditAlerts.alertType, type)).orderBy(creditAlerts.id);
    expect(rules.find((r) => r.id === Number(rule.id))!.lastTriggeredAt).not.toBeNull();
    expect(rules.find((r) => r.id === Number(off.id))!.lastTriggeredAt).toBeNull();
  });

  it('a disabled channel gets nothing, even when a rule names it', async () => {
    await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'sms', enabled: false, cooldownSeconds: 900, config: { url: fakes.smsUrl, recipients: ['+4915112345678'] } });
    try {
      const type = `custom_${uniqueId('t').replace('-', '_')}`;
      await createRule(db(), cliActor, { alertType: type, thresholdValue: null, notificationChannels: ['sms'], isActive: true });
      const { id } = await raise('warning', type);
      await runAlertDispatch(db(), deps());
      expect((await deliveriesOf(id)).map((d) => d.channel)).toEqual(['in_app', 'slack']);
      expect(fakes.state.sms).toHaveLength(0);
    } finally {
      await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'sms', enabled: true, cooldownSeconds: 900, config: { url: fakes.smsUrl, recipients: ['+4915112345678'] } });
    }
  });
});

describe('[ALERTS] folding and cool-down', () => {
  it('100 identical alerts raised concurrently fold into one alert with 100 occurrences and one delivery per channel', async () => {
    const subject = uniqueId('burst');
    await Promise.all(Array.from({ length: 100 }, () => raise('error', 'enhancement_degraded', subject)));
    // Three dispatchers at once, as three processes would run them.
    await Promise.all([runAlertDispatch(db(), deps()), runAlertDispatch(db(), deps()), runAlertDispatch(db(), deps())]);

    const alerts = await db().select().from(systemAlerts).where(eq(systemAlerts.subject, subject));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.occurrences).toBe(100);
    expect((await deliveriesOf(alerts[0]!.id)).map((d) => [d.channel, d.status])).toEqual([
      ['email', 'sent'],
      ['in_app', 'sent'],
      ['slack', 'sent'],
    ]);
    expect(slackFor(subject)).toHaveLength(1);
    expect(mailFor(subject)).toHaveLength(1);

    // Another repeat is counted on the open alert, not sent again (reminders wait for the repeat interval).
    await raise('error', 'enhancement_degraded', subject);
    await runAlertDispatch(db(), deps());
    const [after] = await db().select().from(systemAlerts).where(eq(systemAlerts.subject, subject));
    expect(after!.occurrences).toBe(101);
    expect((await deliveriesOf(after!.id)).filter((d) => d.channel !== 'in_app')).toHaveLength(2);
    expect(slackFor(subject)).toHaveLength(1);
  });

  it('dispatchers running while the alert keeps repeating still send it once per channel within the cool-down', async () => {
    const subject = uniqueId('storm');
    await Promise.all([...Array.from({ length: 60 }, () => raise('error', 'enhancement_degraded', subject)), ...Array.from({ length: 4 }, () => runAlertDispatch(db(), deps()))]);
    await runAlertDispatch(db(), deps());
    const [alert] = await db().select().from(systemAlerts).where(eq(systemAlerts.subject, subject));
    expect(alert!.occurrences).toBe(60);
    const byChannel = (await deliveriesOf(alert!.id)).filter((d) => d.channel !== 'in_app').map((d) => d.channel);
    expect(byChannel).toEqual(['email', 'slack']);
    expect(slackFor(subject)).toHaveLength(1);
    expect(mailFor(subject)).toHaveLength(1);
  });

  it("a condition that clears and crosses again within the channel's cool-down is held by it; a crossing after it is sent", async () => {
    const { subject, type } = await raise('warning', 'pool_low');
    await runAlertDispatch(db(), deps());
    await resolveCleared(db(), type, [subject]);
    await runAlertDispatch(db(), deps());
    expect(slackFor(subject).map((s) => String(s.body.text).split(']')[0])).toEqual(['[WARNING', '[RESOLVED']);

    // Flapping: crossed again minutes later, the cool-down holds the firing notice (and so its resolved one).
    const again = await raise('warning', type, subject);
    const held = await runAlertDispatch(db(), deps());
    expect(held.suppressed).toBe(1);
    await resolveCleared(db(), type, [subject]);
    await runAlertDispatch(db(), deps());
    expect(slackFor(subject)).toHaveLength(2);
    expect((await deliveriesOf(again.id)).map((d) => d.channel)).toEqual(['in_app']);

    await db().execute(sql`update alert_cooldowns set last_sent_at = now() - interval '901 seconds' where alert_type = ${type} and subject = ${subject}`);
    const third = await raise('warning', type, subject);
    await runAlertDispatch(db(), deps());
    expect(slackFor(subject)).toHaveLength(3);
    expect((await deliveriesOf(third.id)).map((d) => `${d.kind}:${d.channel}`)).toEqual(['firing:in_app', 'firing:slack']);
  });
});

describe('[ALERTS] failures and retries', () => {
  it('a failing channel is retried with backoff, its failure recorded, and delivers once it recovers; the other channel is unaffected', async () => {
    fakes.state.fail.slack = true;
    const { id, subject } = await raise('error', 'pool_refill_failed');
    const first = await runAlertDispatch(db(), deps());
    expect(first.retrying).toBeGreaterThanOrEqual(1);

    // Email went out although Slack failed.
    expect(mailFor(subject)).toHaveLength(1);
    expect((await deliveryOn(id, 'email')).status).toBe('sent');

    let slack = await deliveryOn(id, 'slack');
    expect(slack).toMatchObject({ status: 'pending', attempts: 1 });
    expect(slack.lastError).toContain('HTTP 500');
    const wait1 = await secondsUntilNextAttempt(slack.id);
    expect(wait1).toBeGreaterThan(25);
    expect(wait1).toBeLessThanOrEqual(30);

    // Not due yet: a run now leaves it alone.
    await sendDueDeliveries(db(), deps());
    expect((await deliveryOn(id, 'slack')).attempts).toBe(1);

    await makeDue(slack.id);
    await sendDueDeliveries(db(), deps());
    slack = await deliveryOn(id, 'slack');
    expect(slack).toMatchObject({ status: 'pending', attempts: 2 });
    expect(await secondsUntilNextAttempt(slack.id)).toBeGreaterThan(55);

    fakes.state.fail.slack = false;
    await makeDue(slack.id);
    await sendDueDeliveries(db(), deps());
    slack = await deliveryOn(id, 'slack');
    expect(slack).toMatchObject({ status: 'sent', attempts: 3, lastError: null });
    expect(slack.sentAt).not.toBeNull();
    expect(slackFor(subject)).toHaveLength(1);
  });

  it(`a channel that keeps failing backs off exponentially and ends failed after ${MAX_ATTEMPTS} attempts`, async () => {
    fakes.state.fail.email = true;
    const { id, subject } = await raise('critical', 'pool_emergency_reserve');
    await runAlertDispatch(db(), deps());
    expect(slackFor(subject)).toHaveLength(1);
    const waits: number[] = [];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const email = await deliveryOn(id, 'email');
      expect(email.attempts).toBe(attempt);
      expect(email.lastError).toMatch(/451/);
      if (attempt < MAX_ATTEMPTS) {
        expect(email.status).toBe('pending');
        waits.push(Math.round(await secondsUntilNextAttempt(email.id)));
        await makeDue(email.id);
        await sendDueDeliveries(db(), deps());
      }
    }
    expect(waits).toEqual([1, 2, 3, 4].map(backoffSeconds));
    const email = await deliveryOn(id, 'email');
    expect(email).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS });
    // Failed is final: further runs do not try it again.
    await makeDue(email.id);
    await sendDueDeliveries(db(), deps());
    expect(await deliveryOn(id, 'email')).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS });
    expect(mailFor(subject)).toHaveLength(0);
  });

  it('an unreachable channel is recorded as a failure, not thrown out of the dispatcher', async () => {
    await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'slack', enabled: true, cooldownSeconds: 900, webhookUrl: 'http://127.0.0.1:1/slack/nothing-listens' });
    try {
      const { id } = await raise('warning', 'pool_low');
      const run = await runAlertDispatch(db(), deps());
      expect(run.retrying).toBeGreaterThanOrEqual(1);
      const slack = await deliveryOn(id, 'slack');
      expect(slack.status).toBe('pending');
      expect(slack.lastError).toMatch(/unreachable/);
      expect(slack.lastError).not.toContain('nothing-listens');
    } finally {
      await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'slack', enabled: true, cooldownSeconds: 900, webhookUrl: fakes.slackUrl('T1/B1/hook-secret') });
    }
  });

  it('a channel that never answers times out and is retried later, without holding up the other channel', async () => {
    fakes.state.hang.slack = true;
    const { id, subject } = await raise('error', 'provider_unhealthy');
    const started = Date.now();
    await runAlertDispatch(db(), { ...deps(), channelTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5_000);
    const slack = await deliveryOn(id, 'slack');
    expect(slack).toMatchObject({ status: 'pending', attempts: 1 });
    expect(slack.lastError).toBe('no answer within 300 ms');
    expect(mailFor(subject)).toHaveLength(1);
  });

  it('a delivery whose channel was disabled after routing fails without being sent', async () => {
    fakes.state.fail.slack = true;
    const { id, subject } = await raise('warning', 'pool_low');
    await runAlertDispatch(db(), deps());
    await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'slack', enabled: false, cooldownSeconds: 900 });
    try {
      fakes.state.fail.slack = false;
      await makeDue((await deliveryOn(id, 'slack')).id);
      await sendDueDeliveries(db(), deps());
      const slack = await deliveryOn(id, 'slack');
      expect(slack.status).toBe('failed');
      expect(slack.lastError).toMatch(/disabled/);
      expect(slackFor(subject)).toHaveLength(0);
    } finally {
      await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'slack', enabled: true, cooldownSeconds: 900 });
    }
  });
});
