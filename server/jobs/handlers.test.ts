import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, sql } from 'drizzle-orm';
import { today } from '../analytics/days';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { systemAlerts } from '../alerts/tables';
import { updateChannel } from '../alerts/channel-settings';
import { cliActor } from '../auth/audit';
import { col, queryOne } from '../db/rows';
import { consumeCredits } from '../ledger/consume';
import { poolTotal } from '../pools/draw';
import { creditPurchaseRequests } from '../pools/tables';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeBilling } from '../test/fake-billing';
import { startFakeChannels, type FakeChannels } from '../test/fake-channels';
import { startFakeProvider } from '../test/fake-providers';
import { expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { configureProviders } from '../test/provider-helpers';
import { jobRuns } from './tables';

let env: TestEnv;
let channels: FakeChannels;
let billing: Awaited<ReturnType<typeof startFakeBilling>>;

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  [channels, billing] = await Promise.all([startFakeChannels(), startFakeBilling()]);
  await env.deps.jobs.start({ work: true });
});
afterAll(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await expectPoolsClean(env.deps.dbHandle.db);
  await Promise.all([channels.close(), billing.close()]);
  await env.close();
});

const db = () => env.deps.dbHandle.db;

/** Runs a job through the real runner and waits for its recorded run. */
async function run(name: string, payload: unknown = {}) {
  const jobId = await env.deps.jobs.enqueue(name, payload);
  for (let i = 0; i < 150; i++) {
    const [r] = await db()
      .select()
      .from(jobRuns)
      .where(and(eq(jobRuns.jobId, jobId), sql`${jobRuns.status} <> 'running'`));
    if (r) return r;
    await sleep(100);
  }
  throw new Error(`${name} did not finish`);
}

const alertsOfType = (type: string) => db().select().from(systemAlerts).where(eq(systemAlerts.type, type));

describe('[JOBS] every handler produces its effect', () => {
  it('check-credit-thresholds raises a warning for a pool at its threshold', async () => {
    const provider = await seedPool(env.deps, 5, { autoRefillThreshold: 10 });
    expect((await run('check-credit-thresholds')).status).toBe('succeeded');
    expect((await alertsOfType('pool_low')).some((a) => a.subject === provider && a.level === 'warning')).toBe(true);
  });

  it('provider-health-check marks an unreachable provider unhealthy with an error alert', async () => {
    const name = uniqueId('down').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: 'http://127.0.0.1:9' }]);
    expect((await run('provider-health-check')).status).toBe('succeeded');
    const [alert] = (await alertsOfType('provider_unhealthy')).filter((a) => a.subject === name);
    expect(alert).toMatchObject({ level: 'error', status: 'open' });

    // Back up (updated_at moves, so the registry builds the adapter anew): the next check passes and resolves the alert by itself, for its resolved notice.
    const fal = await startFakeProvider('fal');
    try {
      await db().execute(sql`update api_providers set base_url = ${fal.url}, updated_at = now() where name = ${name}`);
      expect((await run('provider-health-check')).status).toBe('succeeded');
      const [after] = await db().select().from(systemAlerts).where(eq(systemAlerts.id, alert!.id));
      expect(after).toMatchObject({ status: 'resolved', resolvedBy: 'system', needsRouting: true });
    } finally {
      await fal.close();
    }
  });

  it('deliver-alerts sends an error alert to Slack', async () => {
    await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'slack', enabled: true, cooldownSeconds: 900, webhookUrl: channels.slackUrl() });
    const subject = uniqueId('subject');
    await db().execute(sql`insert into system_alerts (type, level, subject, message) values ('job_test', 'error', ${subject}, 'a test error')`);
    expect((await run('deliver-alerts')).status).toBe('succeeded');
    expect(channels.state.slack.filter((w) => JSON.stringify(w.body).includes(subject))).toHaveLength(1);
  });

  it('auto-refill buys an approved http refill', async () => {
    const provider = await seedPool(env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 50, billingMode: 'http', billingUrl: billing.url });
    await db().transaction(async (tx) => (await import('../pools/draw')).drawFromPool(tx, provider, 1));
    expect((await run('auto-refill')).status).toBe('succeeded');
    const [request] = await db().select().from(creditPurchaseRequests).where(eq(creditPurchaseRequests.provider, provider));
    expect(request!.status).toBe('completed');
    expect(await poolTotal(db(), provider)).toBe(52);
  });

  it('daily-usage-summary summarises the given day, and again gives the same', async () => {
    const userId = await newUser(db(), 'plus');
    await consumeCredits(db(), { userId, credits: 1, enhancementType: 'color', idempotencyKey: key() });
    await db().execute(sql`update credit_transactions set created_at = '2026-09-15T10:00:00Z' where user_id = ${userId}`);
    const first = await run('daily-usage-summary', { day: '2026-09-15' });
    expect(first.status).toBe('succeeded');
    const row = await queryOne(db(), z.object({ successful_requests: col.integer }), sql`select successful_requests from daily_usage_summary where day = '2026-09-15'`);
    expect(row).toEqual({ successful_requests: 1 });
    await run('daily-usage-summary', { day: '2026-09-15' });
    expect(await queryOne(db(), z.object({ successful_requests: col.integer }), sql`select successful_requests from daily_usage_summary where day = '2026-09-15'`)).toEqual({ successful_requests: 1 });
  });

  it('usage-rollup rolls up today’s closed quarter-hours, and a second run has none left to roll', async () => {
    const first = await run('usage-rollup');
    expect(first.status).toBe('succeeded');
    const closed = await queryOne(db(), z.object({ n: col.integer }), sql`select count(*)::int as n from usage_rollup_buckets where bucket_start >= date_trunc('day', now(), 'UTC')`);
    expect(first.result).toEqual({ day: today(), bucketsRolled: closed!.n });
    const second = await run('usage-rollup');
    // A quarter-hour may close between the two runs: at most that one.
    expect((second.result as { bucketsRolled: number }).bucketsRolled).toBeLessThanOrEqual(1);
  });

  it('smart-reallocation records its outcome', async () => {
    const r = await run('smart-reallocation');
    expect(r.status).toBe('succeeded');
    expect(r.result).toMatchObject({ upgradeSuggestions: expect.any(Number), usersReallocated: expect.any(Number) });
  });

  it('cleanup-sessions removes old run records and expired sessions', async () => {
    await db().execute(sql`insert into job_runs (job_name, trigger, mode, status, started_at) values ('old', 'manual', 'bullmq', 'succeeded', now() - interval '40 days')`);
    const r = await run('cleanup-sessions');
    expect(r.result).toMatchObject({ jobRuns: 1 });
  });
});
