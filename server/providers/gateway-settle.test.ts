import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemAlerts } from '../alerts/tables';
import { consumeCredits } from '../ledger/consume';
import { poolTotal } from '../pools/draw';
import { pendingHolds } from '../faults/lib/reconciled';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { balanceRow, countEntries, expectLedgerClean, key, newUser, reasonOf, setAllowanceBalance } from '../test/ledger-helpers';
import { expectPoolsClean } from '../test/pool-helpers';
import { configureProviders } from '../test/provider-helpers';
import { runEnhancement } from './gateway';
import { enhancementRequests, providerCalls, userNotifications } from './tables';

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
const fakes: Awaited<ReturnType<typeof startFakeProvider>>[] = [];

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true', CIRCUIT_FAILURE_THRESHOLD: '3' });
  images = await startImageServer();
});
afterEach(async () => {
  await db().execute(sql`drop trigger if exists fail_provider_calls on provider_calls`);
  await expectLedgerClean(db());
  await expectPoolsClean(db());
});
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  await images.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
async function fake(kind: 'fal' | 'kie') {
  const f = await startFakeProvider(kind);
  fakes.push(f);
  return f;
}
const enhance = (userId: string, idempotencyKey = key(), inputImageUrl = images.inputUrl) => runEnhancement(env.deps.gateway, { userId, inputImageUrl, enhancementType: 'upscale', idempotencyKey });
const claimOf = async (idempotencyKey: string) => (await db().select().from(enhancementRequests).where(eq(enhancementRequests.idempotencyKey, idempotencyKey)))[0];

/** A real failed insert: PostgreSQL refuses provider_calls rows of `outcome` until the trigger is dropped. */
async function failInserts(outcome: 'success' | 'failure') {
  await db().execute(
    sql.raw(`
    create or replace function fail_provider_call() returns trigger language plpgsql as $$
    begin raise exception 'provider_calls is refusing writes'; end $$;
    create trigger fail_provider_calls before insert on provider_calls
      for each row when (new.outcome = '${outcome}') execute function fail_provider_call();`),
  );
}

describe('[GATEWAY] every path out of the gateway settles the hold and the claim', () => {
  it('a failed insert after the hold: the credit is returned, the claim released, and a replay runs at once', async () => {
    const f = await fake('fal');
    f.state.behaviour = 'error500';
    await configureProviders(env.deps, [{ name: uniqueId('fal').toLowerCase(), kind: 'fal', baseUrl: f.url }]);
    const userId = await newUser(db(), 'plus');
    const k = key();
    await failInserts('failure');
    await expect(enhance(userId, k)).rejects.toThrow(/insert into provider_calls/);
    expect(await claimOf(k)).toBeUndefined();
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10, consumed: 0 });
    expect(await pendingHolds(db())).toBe(0);

    await db().execute(sql`drop trigger fail_provider_calls on provider_calls`);
    f.state.behaviour = 'ok';
    const started = Date.now();
    expect(await enhance(userId, k)).toMatchObject({ status: 'enhanced' });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
    expect(await pendingHolds(db())).toBe(0);
  });
});

describe('[GATEWAY] only the provider call itself can fail an attempt', () => {
  it('a served call whose bookkeeping fails is neither refunded nor paid again elsewhere', async () => {
    const [a, b] = await Promise.all([fake('fal'), fake('kie')]);
    const names = { a: uniqueId('fal').toLowerCase(), b: uniqueId('kie').toLowerCase() };
    await configureProviders(env.deps, [
      { name: names.a, kind: 'fal', baseUrl: a.url, costPerCredit: '0.02' },
      { name: names.b, kind: 'kie', baseUrl: b.url, costPerCredit: '0.03' },
    ]);
    const userId = await newUser(db(), 'plus');
    await failInserts('success');
    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: names.a, costUsd: '0.020000' });
    expect(await poolTotal(db(), names.a)).toBe(99);
    expect(await poolTotal(db(), names.b)).toBe(100);
    expect(b.requests).toHaveLength(0);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
    expect(await env.deps.gateway.breaker.state(names.a)).toBe('closed');
  });
});

describe('[GATEWAY] a served call is recorded by the time enhance.run answers', () => {
  it('its row, with the hold and the latency, is there when the answer is', async () => {
    const f = await fake('fal');
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url }]);
    const userId = await newUser(db(), 'plus');
    const k = key();
    expect(await enhance(userId, k)).toMatchObject({ status: 'enhanced', provider: name });
    const calls = await db().select().from(providerCalls).where(eq(providerCalls.provider, name));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ outcome: 'success', reservationId: (await claimOf(k))?.reservationId });
    expect(calls[0]?.latencyMs).not.toBeNull();
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
    expect(await pendingHolds(db())).toBe(0);
  });
});

describe('[GATEWAY] the caller’s bad input image is a refusal, never a provider failure', () => {
  it.each([
    ['an image URL answering 500', '/error500', 'local'],
    ['a URL that is not an image', '/not-image', 'local'],
    ['a provider answering 422 about the input', '/input.png', 'fal'],
  ] as const)('%s: BAD_REQUEST, nothing charged, no hold left, claim settled, circuit closed', async (_what, path, kind) => {
    const f = await fake('fal');
    f.state.behaviour = 'error422';
    const name = uniqueId(kind).toLowerCase();
    await configureProviders(env.deps, [kind === 'fal' ? { name, kind, baseUrl: f.url } : { name, kind, baseUrl: 'http://localhost' }]);
    const userId = await newUser(db(), 'pro');
    const entriesBefore = await countEntries(db(), userId);
    for (let i = 0; i < 5; i++) {
      const k = key();
      expect(await reasonOf(enhance(userId, k, `${images.url}${path}`))).toBe('BAD_REQUEST');
      expect(await claimOf(k)).toBeUndefined();
    }
    expect(await env.deps.gateway.breaker.state(name)).toBe('closed');
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 25, consumed: 0 });
    expect(await pendingHolds(db())).toBe(0);
    if (kind === 'fal') expect(await poolTotal(db(), name)).toBe(100);
    const calls = await db().select().from(providerCalls).where(eq(providerCalls.provider, name));
    // A bad image is refused before anything is held; a provider's refusal after the hold is recorded as a skip.
    expect(calls.map((c) => c.outcome)).toEqual(kind === 'fal' ? Array(5).fill('skipped') : []);
    expect((await countEntries(db(), userId)) - entriesBefore).toBe(kind === 'fal' ? 5 * 2 : 0);
  });
});

describe('[GATEWAY] a depleted platform degrades a paid overflow', () => {
  it('degrades naming the depleted platform, notifies the user and an admin, charges nothing; credits.consume still refuses', async () => {
    await db().execute(sql`update credit_pools set status = 'suspended'`);
    try {
      const f = await fake('fal');
      await configureProviders(env.deps, [{ name: uniqueId('fal').toLowerCase(), kind: 'fal', baseUrl: f.url, poolCredits: 0 }]);
      const userId = await newUser(db(), 'plus');
      await setAllowanceBalance(db(), userId, 0);
      const k = key();
      const result = await enhance(userId, k);
      expect(result).toMatchObject({ status: 'degraded', type: 'suggestion_fallback', degradationReason: expect.stringContaining('PLATFORM_CREDITS_DEPLETED') });
      expect(await enhance(userId, k)).toEqual(result);
      expect(f.requests).toHaveLength(0);
      expect(await balanceRow(db(), userId)).toMatchObject({ total: 0, consumed: 0 });
      expect(await pendingHolds(db())).toBe(0);
      expect(
        await db()
          .select()
          .from(userNotifications)
          .where(and(eq(userNotifications.userId, userId), eq(userNotifications.type, 'enhancement_degraded'))),
      ).toHaveLength(1);
      const alerts = await db()
        .select()
        .from(systemAlerts)
        .where(and(eq(systemAlerts.type, 'platform_credits_depleted'), eq(systemAlerts.level, 'critical')));
      expect(alerts).toHaveLength(1);
      expect(await reasonOf(consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }))).toBe('PLATFORM_CREDITS_DEPLETED');
    } finally {
      await db().execute(sql`update credit_pools set status = 'active' where status = 'suspended'`);
    }
  });
});
