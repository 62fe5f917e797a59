import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditLog } from '../auth/tables';
import { startFakeChannels, type FakeChannels } from '../test/fake-channels';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { reasonOf } from '../test/ledger-helpers';
import { notify, runAlertDispatch } from './alert-service';
import { alertChannels, systemAlerts } from './tables';

let env: TestEnv;
let fakes: FakeChannels;
let admin: Awaited<ReturnType<typeof signedInCaller>>;
let analyst: Awaited<ReturnType<typeof signedInCaller>>;
beforeAll(async () => {
  env = await createTestEnv();
  fakes = await startFakeChannels();
  admin = await signedInCaller(env.deps, 'admin');
  analyst = await signedInCaller(env.deps, 'analyst');
});
beforeEach(() => fakes.reset());
afterAll(async () => {
  await fakes.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const raise = async (type: string, subject: string, level: 'info' | 'warning' | 'error' | 'critical' = 'warning') =>
  String((await notify(db(), { type, level, subject, message: `${type} on ${subject}` })).id);
const auditOf = (action: string, targetId: string) =>
  db()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.targetId, targetId)));
const SECRET = 'SUPERSECRET-7f3a';

describe('[ALERTS] admin procedures', () => {
  it('an analyst reads alerts, channels and rules but gets FORBIDDEN on every mutation', async () => {
    const id = await raise('pool_low', uniqueId('p'));
    const a = analyst.caller.admin.alerts;
    expect((await a.active({})).map((x) => x.id)).toContain(id);
    await a.history({});
    await a.channels.list();
    await a.rules.list();
    const refusals = await Promise.all([
      reasonOf(a.acknowledge({ id })),
      reasonOf(a.resolve({ id })),
      reasonOf(a.channels.update({ channel: 'in_app', cooldownSeconds: 0 })),
      reasonOf(a.channels.sendTest({ channel: 'in_app' })),
      reasonOf(a.rules.create({ alertType: 'pool_low' })),
      reasonOf(a.rules.update({ id: '1', alertType: 'pool_low' })),
      reasonOf(a.rules.delete({ id: '1' })),
    ]);
    expect(refusals).toEqual(Array(7).fill('FORBIDDEN'));
  });

  it('acknowledge then resolve record who and when, are audited, and take the alert out of the active list', async () => {
    const id = await raise('provider_unhealthy', uniqueId('prov'), 'error');
    const acked = await admin.caller.admin.alerts.acknowledge({ id, note: 'looking into it' });
    expect(acked).toMatchObject({ id, status: 'acknowledged', acknowledgedBy: admin.admin.email });
    expect(acked.acknowledgedAt).not.toBeNull();
    expect((await admin.caller.admin.alerts.active({ level: 'error' })).map((x) => x.id)).toContain(id);

    const resolved = await admin.caller.admin.alerts.resolve({ id, note: 'provider back' });
    expect(resolved).toMatchObject({ status: 'resolved', resolvedBy: admin.admin.email, acknowledgedBy: admin.admin.email });
    expect(resolved.resolvedAt).not.toBeNull();
    expect((await admin.caller.admin.alerts.active({})).map((x) => x.id)).not.toContain(id);

    expect(await auditOf('alert.acknowledge', id)).toMatchObject([{ actorLabel: admin.admin.email, reason: 'looking into it' }]);
    expect(await auditOf('alert.resolve', id)).toMatchObject([{ actorLabel: admin.admin.email, reason: 'provider back', before: { status: 'acknowledged' } }]);
  });

  it('a resolved alert cannot be acknowledged or resolved again (CONFLICT); an unknown alert is NOT_FOUND', async () => {
    const id = await raise('pool_low', uniqueId('p'));
    await admin.caller.admin.alerts.resolve({ id });
    expect(await reasonOf(admin.caller.admin.alerts.acknowledge({ id }))).toBe('CONFLICT');
    expect(await reasonOf(admin.caller.admin.alerts.resolve({ id }))).toBe('CONFLICT');
    expect(await reasonOf(admin.caller.admin.alerts.acknowledge({ id: '999999999' }))).toBe('NOT_FOUND');
  });

  it("a resolved alert's next occurrence opens a new alert, to be routed again", async () => {
    const subject = uniqueId('p');
    const first = await raise('pool_low', subject);
    expect(await raise('pool_low', subject)).toBe(first);
    await admin.caller.admin.alerts.resolve({ id: first });
    const second = await raise('pool_low', subject);
    expect(second).not.toBe(first);
    const rows = await db().select().from(systemAlerts).where(eq(systemAlerts.subject, subject)).orderBy(systemAlerts.id);
    expect(rows.map((r) => [String(r.id), r.status, r.occurrences, r.needsRouting])).toEqual([
      [first, 'resolved', 2, true],
      [second, 'open', 1, true],
    ]);
  });

  it('history filters by level, type, status and time window, and pages', async () => {
    const type = `hist_${uniqueId('t').replace('-', '_')}`;
    const ids = [await raise(type, 'a', 'info'), await raise(type, 'b', 'warning'), await raise(type, 'c', 'error')];
    await admin.caller.admin.alerts.resolve({ id: ids[2]! });
    const h = admin.caller.admin.alerts.history;
    expect((await h({ type })).total).toBe(3);
    expect((await h({ type, level: 'warning' })).rows.map((r) => r.id)).toEqual([ids[1]]);
    expect((await h({ type, status: 'resolved' })).rows.map((r) => r.id)).toEqual([ids[2]]);
    const page = await h({ type, pageSize: 2, page: 1 });
    expect(page).toMatchObject({ total: 3, rows: [{ id: ids[0] }] });
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await h({ type, from: future })).total).toBe(0);
    expect((await h({ type, to: '2000-01-01T00:00:00Z' })).total).toBe(0);
    expect((await h({ type, from: '2000-01-01T00:00:00Z', to: future })).total).toBe(3);
    expect(await reasonOf(h({ from: 'yesterday' }))).toBe('BAD_REQUEST');
  });

  it('channel secrets are write-only: settings say whether one is set, never what it is, and the audit log holds none', async () => {
    const ch = admin.caller.admin.alerts.channels;
    await ch.update({ channel: 'slack', enabled: true, cooldownSeconds: 600, webhookUrl: fakes.slackUrl(SECRET) });
    await ch.update({
      channel: 'email',
      enabled: true,
      cooldownSeconds: 900,
      config: { ...fakes.smtp, secure: false, from: 'alerts@creditdesk.test', to: ['ops@example.com'], user: 'mailer' },
      password: `pw-${SECRET}`,
    });
    await ch.update({ channel: 'sms', enabled: false, cooldownSeconds: 900, config: { url: fakes.smsUrl, recipients: ['+15550001111'] }, token: `tok-${SECRET}` });

    const listed = await ch.list();
    expect(JSON.stringify(listed)).not.toContain(SECRET);
    expect(JSON.stringify(await analyst.caller.admin.alerts.channels.list())).not.toContain(SECRET);
    expect(listed.map((c) => [c.channel, c.enabled, c.secretSet])).toEqual([
      ['email', true, true],
      ['in_app', true, false],
      ['slack', true, true],
      ['sms', false, true],
    ]);
    expect(listed.find((c) => c.channel === 'email')!.config).toMatchObject({ host: '127.0.0.1', user: 'mailer', to: ['ops@example.com'] });

    // Stored sealed, not in clear.
    const stored = await db().select().from(alertChannels);
    expect(JSON.stringify(stored)).not.toContain(SECRET);

    // Omitted keeps the secret; null removes it.
    expect(await ch.update({ channel: 'slack', enabled: true, cooldownSeconds: 300 })).toMatchObject({ secretSet: true, cooldownSeconds: 300 });
    expect(await ch.update({ channel: 'sms', enabled: false, cooldownSeconds: 900, config: { url: fakes.smsUrl, recipients: ['+15550001111'] }, token: null })).toMatchObject({
      secretSet: false,
    });

    const audits = await db().select().from(auditLog).where(like(auditLog.action, 'alert.channel.%'));
    expect(audits.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(audits.map((a) => [a.before, a.after, a.reason]))).not.toContain(SECRET);
  });

  it('enabling Slack without a webhook URL is refused', async () => {
    await admin.caller.admin.alerts.channels.update({ channel: 'slack', enabled: false, cooldownSeconds: 900, webhookUrl: null });
    expect(await reasonOf(admin.caller.admin.alerts.channels.update({ channel: 'slack', enabled: true, cooldownSeconds: 900 }))).toBe('BAD_REQUEST');
    expect(await reasonOf(admin.caller.admin.alerts.channels.update({ channel: 'slack', enabled: true, cooldownSeconds: 900, webhookUrl: 'ftp://x' }))).toBe('BAD_REQUEST');
  });

  it('send test delivers through the channel now and answers ok, or the error when the channel fails', async () => {
    const ch = admin.caller.admin.alerts.channels;
    await ch.update({ channel: 'slack', enabled: false, cooldownSeconds: 900, webhookUrl: fakes.slackUrl('T9/B9/test') });
    expect(await ch.sendTest({ channel: 'slack' })).toEqual({ ok: true });
    expect(fakes.state.slack).toHaveLength(1);
    expect(JSON.stringify(fakes.state.slack[0]!.body)).toContain(admin.admin.email);

    await ch.update({
      channel: 'email',
      enabled: false,
      cooldownSeconds: 900,
      config: { ...fakes.smtp, secure: false, from: 'alerts@creditdesk.test', to: ['ops@example.com'], user: null },
    });
    expect(await ch.sendTest({ channel: 'email' })).toEqual({ ok: true });
    expect(fakes.state.mail.map((m) => m.subject)).toEqual(['[Creditdesk INFO] channel_test: email']);

    fakes.state.fail.slack = true;
    const failed = await ch.sendTest({ channel: 'slack' });
    expect(failed.ok).toBe(false);
    expect(!failed.ok && failed.error).toMatch(/HTTP 500/);

    await ch.update({ channel: 'sms', enabled: false, cooldownSeconds: 900, config: { url: fakes.smsUrl, recipients: ['+15550001111'] } });
    fakes.state.fail.sms = true;
    expect(await ch.sendTest({ channel: 'sms' })).toMatchObject({ ok: false });

    expect((await ch.sendTest({ channel: 'in_app' })).ok).toBe(true);
    expect((await admin.caller.admin.alerts.active({})).some((a) => a.type === 'channel_test' && a.subject === 'in_app')).toBe(true);
    expect(await auditOf('alert.channel.test', 'slack')).toMatchObject([{ after: { ok: true } }, { after: { ok: false } }]);
  });

  it('alert rules: list the seed, create, update and delete, each audited; invalid input is BAD_REQUEST', async () => {
    const r = admin.caller.admin.alerts.rules;
    expect((await r.list()).map((x) => [x.alertType, x.thresholdValue])).toEqual(
      expect.arrayContaining([
        ['pool_low', null],
        ['pool_usage_high', '90.0000'],
        ['users_out_of_credits', null],
      ]),
    );
    const created = await r.create({ alertType: 'provider_unhealthy', notificationChannels: ['sms'] });
    expect(created).toMatchObject({ alertType: 'provider_unhealthy', thresholdValue: null, notificationChannels: ['sms'], isActive: true, lastTriggeredAt: null });
    const updated = await r.update({ id: created.id, alertType: 'provider_unhealthy', thresholdValue: '3', notificationChannels: ['sms', 'email'], isActive: false });
    expect(updated).toMatchObject({ thresholdValue: '3.0000', notificationChannels: ['sms', 'email'], isActive: false });
    expect(await r.delete({ id: created.id })).toEqual({ ok: true });
    expect((await r.list()).map((x) => x.id)).not.toContain(created.id);
    expect(await reasonOf(r.delete({ id: created.id }))).toBe('NOT_FOUND');
    for (const action of ['alert.rule.create', 'alert.rule.update', 'alert.rule.delete']) expect(await auditOf(action, created.id)).toHaveLength(1);

    expect(await reasonOf(r.create({ alertType: 'Pool Low!' }))).toBe('BAD_REQUEST');
    expect(await reasonOf(r.create({ alertType: 'pool_low', notificationChannels: ['pager' as 'sms'] }))).toBe('BAD_REQUEST');
    expect(await reasonOf(r.create({ alertType: 'pool_low', notificationChannels: ['sms', 'sms'] }))).toBe('BAD_REQUEST');
    expect(await reasonOf(r.create({ alertType: 'pool_low', thresholdValue: '-1' }))).toBe('BAD_REQUEST');
  });

  it('deliveries of an alert show where it went, for analysts too', async () => {
    const id = await raise('pool_low', uniqueId('p'), 'info');
    expect(await analyst.caller.admin.alerts.deliveries({ id })).toEqual([]);
    await runAlertDispatch(db(), { secrets: env.deps.secrets, outbound: env.deps.outbound, channelTimeoutMs: 2_000 });
    expect(await analyst.caller.admin.alerts.deliveries({ id })).toMatchObject([{ alertId: id, channel: 'in_app', status: 'sent', attempts: 1, lastError: null }]);
  });
});
