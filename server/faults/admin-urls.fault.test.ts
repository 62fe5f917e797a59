import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { col, countRow, queryRows } from '../db/rows';
import { checkLedger } from '../ledger/reconcile';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { INTERNAL_BODY, startCountingServer } from './lib/counting-server';

let env: TestEnv;
let strict: TestEnv;
let internal: Awaited<ReturnType<typeof startCountingServer>>;
beforeAll(async () => {
  env = await createTestEnv();
  strict = await createTestEnv({ ALLOW_PRIVATE_OUTBOUND: 'false' });
  internal = await startCountingServer();
});
afterAll(async () => {
  await internal.close();
  await strict.close();
  await env.close();
});

const provider = (over: Record<string, unknown>) => ({
  name: uniqueId('p').toLowerCase(),
  kind: 'fal' as const,
  baseUrl: 'https://api.example.com',
  costPerRequest: '0.01',
  rateLimitPerMinute: 60,
  priority: 10,
  ...over,
});

describe('[SSRF] admin-set URLs follow the outbound policy', () => {
  it('non-http(s) URLs are refused at input with a field error: providers, health checks, billing, Slack, SMS, SMTP host', async () => {
    const { caller } = await signedInCaller(env.deps);
    const fieldError = (path: string) => expect.objectContaining({ message: expect.stringContaining(path) });
    await expect(caller.admin.providers.create(provider({ healthCheckUrl: 'file:///etc/passwd' }))).rejects.toMatchObject(fieldError('healthCheckUrl must be an http(s) URL'));
    await expect(caller.admin.providers.create(provider({ baseUrl: 'gopher://127.0.0.1:6379/_FLUSHALL' }))).rejects.toMatchObject(fieldError('baseUrl must be an http(s) URL'));
    await expect(caller.admin.providers.create(provider({ baseUrl: 'https://user:pw@api.example.com' }))).rejects.toMatchObject(fieldError('baseUrl must not carry a user name or password'));
    const pool = { provider: uniqueId('pool').toLowerCase(), costPerCredit: '0.01', autoRefillThreshold: 0, autoRefillAmount: 0, billingMode: 'http' as const };
    await expect(caller.admin.pools.create({ ...pool, billingUrl: 'file:///etc/passwd' })).rejects.toMatchObject(fieldError('billingUrl must be an http(s) URL'));
    await expect(caller.admin.alerts.channels.update({ channel: 'slack', enabled: false, cooldownSeconds: 0, webhookUrl: 'file:///etc/passwd' })).rejects.toMatchObject(
      fieldError('webhookUrl must be an http(s) URL'),
    );
    await expect(
      caller.admin.alerts.channels.update({ channel: 'sms', enabled: false, cooldownSeconds: 0, config: { url: 'file:///etc/passwd', recipients: ['+4915112345678'] } }),
    ).rejects.toMatchObject(fieldError('url must be an http(s) URL'));
    await expect(
      caller.admin.alerts.channels.update({
        channel: 'email',
        enabled: false,
        cooldownSeconds: 0,
        config: { host: 'file:///etc/passwd', port: 25, secure: false, from: 'a@example.com', to: ['b@example.com'] },
      }),
    ).rejects.toMatchObject(fieldError('host must be a host name or an IP address'));
    const stored = await queryRows(env.deps.dbHandle.db, countRow, sql`select count(*)::int as n from api_providers where health_check_url like 'file:%' or base_url not like 'http%'`);
    expect(stored[0]!.n).toBe(0);
  });

  it('without ALLOW_PRIVATE_OUTBOUND a loopback destination is refused when connecting, and nothing reaches it', async () => {
    const { caller } = await signedInCaller(strict.deps);
    const before = internal.state.connections;
    await caller.admin.alerts.channels.update({
      channel: 'sms',
      enabled: true,
      cooldownSeconds: 0,
      config: { url: `http://127.0.0.1:${internal.port}/sms`, recipients: ['+4915112345678'] },
      token: 'tok',
    });
    expect(await caller.admin.alerts.channels.sendTest({ channel: 'sms' })).toEqual({ ok: false, error: expect.stringMatching(/^refused: 127\.0\.0\.1 is a loopback address/) });
    const name = uniqueId('p').toLowerCase();
    await caller.admin.providers.create(provider({ name, baseUrl: `http://localhost:${internal.port}`, apiKey: 'k' }));
    expect(await caller.admin.providers.testNow({ name })).toMatchObject({ ok: false, detail: expect.stringMatching(/^refused: localhost \(.*\) is a loopback address/) });
    expect(internal.state.connections).toBe(before);
  });

  it('errors an admin or analyst reads carry the status line, never the remote body', async () => {
    const { caller } = await signedInCaller(env.deps);
    await caller.admin.alerts.channels.update({
      channel: 'sms',
      enabled: true,
      cooldownSeconds: 0,
      config: { url: `http://127.0.0.1:${internal.port}/sms`, recipients: ['+4915112345678'] },
      token: 'tok',
    });
    expect(await caller.admin.alerts.channels.sendTest({ channel: 'sms' })).toEqual({ ok: false, error: 'HTTP 500 Internal Server Error' });

    // A purchase through a billing endpoint that answers 500 with a body: the request's error, which analysts read, is the status.
    const pool = await seedPool(env.deps, 0, { billingMode: 'http', billingUrl: `http://127.0.0.1:${internal.port}/billing`, billingApiKey: 'bk' });
    await caller.admin.pools.refill({ provider: pool, amount: 10 }).catch(() => {});
    const requests = await queryRows(env.deps.dbHandle.db, z.object({ error_message: col.textOrNull }), sql`select error_message from credit_purchase_requests where provider = ${pool}`);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.error_message).toMatch(/HTTP 500 Internal Server Error/);
    const { caller: analyst } = await signedInCaller(env.deps, 'analyst');
    const seen = JSON.stringify([await analyst.admin.purchaseRequests.list({}), await analyst.admin.alerts.history({})]);
    expect(seen).not.toContain(INTERNAL_BODY);
    expect(await checkLedger(env.deps.dbHandle.db)).toMatchObject({ ok: true });
    await expectPoolsClean(env.deps.dbHandle.db);
  });
});
