import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertChannels } from '../alerts/tables';
import { creditPools } from '../pools/tables';
import { apiProviders } from '../providers/tables';
import { startFakeChannels, type FakeChannels } from '../test/fake-channels';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';

let env: TestEnv;
let fakes: FakeChannels;
beforeAll(async () => {
  env = await createTestEnv();
  fakes = await startFakeChannels();
});
afterAll(async () => {
  await fakes.close();
  await env.close();
});
const db = () => env.deps.dbHandle.db;
const channelSecret = async (channel: string) => (await db().select().from(alertChannels).where(eq(alertChannels.channel, channel)))[0]!.secretEncrypted;
const mail = (over: Record<string, unknown> = {}) => ({
  host: '127.0.0.1',
  port: fakes.smtp.port,
  secure: false,
  from: 'a@example.com',
  to: ['b@example.com'],
  user: 'mailer',
  allowInsecureAuth: true,
  ...over,
});

describe('[SECRETS] a write-only secret never follows a changed destination', () => {
  it('SMS: a new gateway origin clears the token unless it is entered again; a new path keeps it', async () => {
    const { caller } = await signedInCaller(env.deps);
    const sms = (url: string, token?: string) =>
      caller.admin.alerts.channels.update({ channel: 'sms', enabled: true, cooldownSeconds: 0, config: { url, recipients: ['+4915112345678'] }, ...(token ? { token } : {}) });
    await sms('http://127.0.0.1:9/sms', 'first-token');
    expect((await sms('http://127.0.0.1:9/other-path')).secretSet).toBe(true);
    const moved = await sms('http://attacker.example/collect');
    expect(moved.secretSet).toBe(false);
    expect(await channelSecret('sms')).toBeNull();
    expect((await sms('http://127.0.0.1:8/sms', 'second-token')).secretSet).toBe(true);
    expect(env.deps.secrets.decrypt((await channelSecret('sms'))!)).toBe('second-token');
  });

  it('email: a new SMTP host clears the password unless it is entered again', async () => {
    const { caller } = await signedInCaller(env.deps);
    const email = (config: Record<string, unknown>, password?: string) =>
      caller.admin.alerts.channels.update({ channel: 'email', enabled: true, cooldownSeconds: 0, config: mail(config), ...(password ? { password } : {}) });
    await email({}, 'smtp-password');
    expect((await email({ port: fakes.smtp.port })).secretSet).toBe(true);
    expect((await email({ host: 'smtp.attacker.example' })).secretSet).toBe(false);
    expect((await email({ host: 'smtp.new.example' }, 'new-password')).secretSet).toBe(true);
    expect(env.deps.secrets.decrypt((await channelSecret('email'))!)).toBe('new-password');
  });

  it('provider: a base URL on another origin clears the API key unless it is entered again', async () => {
    const { caller } = await signedInCaller(env.deps);
    const name = uniqueId('p').toLowerCase();
    const save = (baseUrl: string, apiKey?: string, mode: 'create' | 'update' = 'update') =>
      caller.admin.providers[mode]({ name, kind: 'fal', baseUrl, costPerRequest: '0.01', rateLimitPerMinute: 60, priority: 10, ...(apiKey ? { apiKey } : {}) });
    const key = async () => (await db().select().from(apiProviders).where(eq(apiProviders.name, name)))[0]!.apiKeyEncrypted;
    await save('https://queue.fal.run', 'fal-key', 'create');
    await save('https://queue.fal.run/v2');
    expect(await key()).not.toBeNull();
    await save('http://queue.fal.run');
    expect(await key()).toBeNull();
    await save('https://other.example', 'other-key');
    expect(env.deps.secrets.decrypt((await key())!)).toBe('other-key');
  });

  it('pool: a billing URL on another origin clears the billing key unless it is entered again', async () => {
    const { caller } = await signedInCaller(env.deps);
    const provider = uniqueId('pool').toLowerCase();
    const base = { provider, costPerCredit: '0.01', autoRefillThreshold: 0, autoRefillAmount: 0, billingMode: 'http' as const };
    // A pool is made only for a provider that exists.
    await caller.admin.providers.create({ name: provider, kind: 'fal', baseUrl: 'https://queue.fal.run', costPerRequest: '0.01', rateLimitPerMinute: 600, priority: 1, timeoutMs: 1_000 });
    await caller.admin.pools.create({ ...base, billingUrl: 'https://billing.example/v1', billingApiKey: 'bill-key' });
    expect((await caller.admin.pools.update({ ...base, billingUrl: 'https://billing.example/v2' })).billingApiKeySet).toBe(true);
    expect((await caller.admin.pools.update({ ...base, billingUrl: 'https://attacker.example/v1' })).billingApiKeySet).toBe(false);
    expect((await caller.admin.pools.update({ ...base, billingUrl: 'https://billing2.example', billingApiKey: 'k2' })).billingApiKeySet).toBe(true);
    const [row] = await db().select().from(creditPools).where(eq(creditPools.provider, provider));
    expect(env.deps.secrets.decrypt(row!.billingApiKeyEncrypted!)).toBe('k2');
  });

  it('SMTP does not sign in without TLS unless the channel allows it', async () => {
    const { caller } = await signedInCaller(env.deps);
    fakes.reset();
    // The fake offers no STARTTLS: with insecure auth not allowed, the password is never sent.
    await caller.admin.alerts.channels.update({ channel: 'email', enabled: true, cooldownSeconds: 0, config: mail({ allowInsecureAuth: false }), password: 'smtp-password' });
    const refused = await caller.admin.alerts.channels.sendTest({ channel: 'email' });
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/STARTTLS|TLS/) });
    expect(fakes.state.mail).toHaveLength(0);
    await caller.admin.alerts.channels.update({ channel: 'email', enabled: true, cooldownSeconds: 0, config: mail({ allowInsecureAuth: true }) });
    expect(await caller.admin.alerts.channels.sendTest({ channel: 'email' })).toEqual({ ok: true });
    expect(fakes.state.mail).toHaveLength(1);
    expect(fakes.state.mail[0]!.authPassword).toBe('smtp-password');
  });

  it('a custom CA is stored with the channel and must be a PEM certificate', async () => {
    const { caller } = await signedInCaller(env.deps);
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const view = await caller.admin.alerts.channels.update({ channel: 'email', enabled: false, cooldownSeconds: 0, config: mail({ caPem: pem }) });
    expect(view.config).toMatchObject({ caPem: pem });
    await expect(caller.admin.alerts.channels.update({ channel: 'email', enabled: false, cooldownSeconds: 0, config: mail({ caPem: 'not a cert' }) })).rejects.toThrow(
      /caPem must be a PEM certificate/,
    );
  });
});
