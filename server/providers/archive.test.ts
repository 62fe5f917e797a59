import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../auth/tables';
import { consumeCredits } from '../ledger/consume';
import { releaseReservation } from '../ledger/release-reservation';
import { reserveCredits } from '../ledger/reserve-credits';
import { drawFromPool, poolTotal, refundToPool } from '../pools/draw';
import { creditPools, creditPoolTransactions } from '../pools/tables';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { expectLedgerClean, key, newUser, reasonOf } from '../test/ledger-helpers';
import { expectPoolsClean } from '../test/pool-helpers';
import { configureProviders } from '../test/provider-helpers';
import { runEnhancement } from './gateway';
import { apiProviders, providerCalls } from './tables';

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
const fakes: Awaited<ReturnType<typeof startFakeProvider>>[] = [];

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  images = await startImageServer();
});
afterEach(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await expectPoolsClean(env.deps.dbHandle.db);
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
/** Two paid providers, `first` tried before `second`, each with a pool of 100. */
async function twoProviders() {
  const [a, b] = [await fake('fal'), await fake('kie')];
  const names = { first: uniqueId('fal').toLowerCase(), second: uniqueId('kie').toLowerCase() };
  await configureProviders(env.deps, [
    { name: names.first, kind: 'fal', baseUrl: a.url },
    { name: names.second, kind: 'kie', baseUrl: b.url },
  ]);
  return { ...names, fakes: { first: a, second: b } };
}
const enhance = (userId: string) => runEnhancement(env.deps.gateway, { userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() });
const callsOf = (provider: string) => db().select().from(providerCalls).where(eq(providerCalls.provider, provider));

describe('[ARCHIVE] providers', () => {
  it('the gateway never tries an archived provider; its history stays and it is listed only with Show archived', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const p = await twoProviders();
    const userId = await newUser(db(), 'pro');
    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: p.first });
    await caller.admin.providers.archive({ name: p.first, reason: 'contract ended' });
    for (let i = 0; i < 3; i++) expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: p.second });
    expect(p.fakes.first.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(await callsOf(p.first)).toHaveLength(1);
    expect(await poolTotal(db(), p.first)).toBe(99);

    expect((await caller.admin.providers.list()).map((x) => x.name)).not.toContain(p.first);
    const all = await caller.admin.providers.list({ includeArchived: true });
    expect(all.find((x) => x.name === p.first)).toMatchObject({ isActive: false, calls24h: 1 });
    expect(all.find((x) => x.name === p.first)!.archivedAt).not.toBeNull();
    const [entry] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'provider.archive'), eq(auditLog.targetId, p.first)));
    expect(entry).toMatchObject({ reason: 'contract ended', before: { isActive: true }, after: { archived: true } });
  });

  it('an archived provider cannot be enabled, edited or named in credits.consume; reorder lists the others alone', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const p = await twoProviders();
    await caller.admin.providers.archive({ name: p.first, reason: 'retired' });
    const userId = await newUser(db(), 'plus');
    expect(await reasonOf(caller.admin.providers.setActive({ name: p.first, isActive: true }))).toBe('BAD_REQUEST');
    const [row] = await db().select().from(apiProviders).where(eq(apiProviders.name, p.first));
    expect(await reasonOf(caller.admin.providers.update({ name: p.first, kind: 'fal', baseUrl: row!.baseUrl, costPerRequest: '0.01', rateLimitPerMinute: 10, priority: 1, isActive: true }))).toBe(
      'BAD_REQUEST',
    );
    expect(await reasonOf(consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key(), provider: p.first }))).toBe('PROVIDER_INACTIVE');
    const visible = (await caller.admin.providers.list()).map((x) => x.name);
    expect(await reasonOf(caller.admin.providers.reorder({ names: [...visible, p.first] }))).toBe('BAD_REQUEST');
    await caller.admin.providers.reorder({ names: [...visible].reverse() });
    expect((await caller.admin.providers.list()).map((x) => x.name)).toEqual([...visible].reverse());
  });

  it('archiving is refused while an enhancement holds a draw on its pool, and allowed once it settles', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const p = await twoProviders();
    const userId = await newUser(db(), 'pro');
    const hold = await reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key(), ttlSeconds: 600 });
    await db().transaction((tx) => drawFromPool(tx, p.first, 1, { reservationId: hold.reservationId }));
    const refused = (await caller.admin.providers.archive({ name: p.first, reason: 'too early' }).catch((e: Error) => e)) as Error;
    expect(refused.message).toMatch(/1 enhancement in flight/);
    expect(await reasonOf(caller.admin.pools.archive({ provider: p.first, reason: 'too early', archiveWithBalance: true }))).toBe('CONFLICT');
    const [row] = await db().select().from(apiProviders).where(eq(apiProviders.name, p.first));
    expect(row).toMatchObject({ archivedAt: null, isActive: true });
    await db().transaction((tx) => refundToPool(tx, p.first, 1, { reservationId: hold.reservationId, reason: 'the provider call failed' }));
    await releaseReservation(db(), { reservationId: hold.reservationId });
    await caller.admin.providers.archive({ name: p.first, reason: 'now settled' });
  });

  it('a restored provider comes back disabled and last in the fallback order, and serves once enabled', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const p = await twoProviders();
    await caller.admin.providers.archive({ name: p.first, reason: 'paused contract' });
    await caller.admin.providers.restore({ name: p.first, reason: 'contract renewed' });
    const list = await caller.admin.providers.list();
    expect(list.at(-1)).toMatchObject({ name: p.first, isActive: false, archivedAt: null });
    expect(await reasonOf(caller.admin.providers.restore({ name: p.first, reason: 'twice' }))).toBe('BAD_REQUEST');
    await caller.admin.providers.setActive({ name: p.first, isActive: true });
    p.fakes.second.state.behaviour = 'error500';
    expect(await enhance(await newUser(db(), 'pro'))).toMatchObject({ status: 'enhanced', provider: p.first });
  });

  it('a failed health check keeps its error and time after a later check passes', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const p = await twoProviders();
    p.fakes.first.state.behaviour = 'error500';
    expect(await caller.admin.providers.testNow({ name: p.first })).toMatchObject({ ok: false, detail: 'HTTP 500' });
    const failed = (await caller.admin.providers.list()).find((x) => x.name === p.first)!;
    expect(failed).toMatchObject({ lastHealthOk: false, lastHealthError: 'HTTP 500' });
    expect(failed.lastHealthErrorAt).toBe(failed.lastHealthCheck);
    p.fakes.first.state.behaviour = 'ok';
    expect((await caller.admin.providers.testNow({ name: p.first })).ok).toBe(true);
    const after = (await caller.admin.providers.list()).find((x) => x.name === p.first)!;
    expect(after).toMatchObject({ lastHealthOk: true, lastHealthError: 'HTTP 500', lastHealthErrorAt: failed.lastHealthErrorAt });
  });
});

describe('[ARCHIVE] pools', () => {
  it('a pool with a balance is archived only by explicit choice; archived it is suspended, never drawn, hidden by default, its ledger kept', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const p = await twoProviders();
    const userId = await newUser(db(), 'pro');
    expect(await enhance(userId)).toMatchObject({ provider: p.first });
    const refused = (await caller.admin.pools.archive({ provider: p.first, reason: 'moving on' }).catch((e: Error) => e)) as Error;
    expect(refused.message).toMatch(/still holds 99 credits/);
    expect((await db().select().from(creditPools).where(eq(creditPools.provider, p.first)))[0]).toMatchObject({ status: 'active', archivedAt: null });

    const archived = await caller.admin.pools.archive({ provider: p.first, reason: 'moving on', archiveWithBalance: true });
    expect(archived).toMatchObject({ status: 'suspended', availableBalance: 99 });
    expect(archived.archivedAt).not.toBeNull();
    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: p.second });
    expect(await poolTotal(db(), p.first)).toBe(99);
    expect(await reasonOf(consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key(), provider: p.first }))).toBe('PROVIDER_INACTIVE');
    expect((await caller.admin.pools.list()).map((x) => x.provider)).not.toContain(p.first);
    expect((await caller.admin.pools.list({ includeArchived: true })).map((x) => x.provider)).toContain(p.first);
    expect(await reasonOf(caller.admin.pools.resume({ provider: p.first, reason: 'not yet' }))).toBe('BAD_REQUEST');
    const consumed = await db()
      .select()
      .from(creditPoolTransactions)
      .where(and(eq(creditPoolTransactions.provider, p.first), eq(creditPoolTransactions.transactionType, 'consumption')));
    expect(consumed).toHaveLength(1);
  });

  it('an empty pool archives without the choice; restored it stays suspended until resumed', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const p = await twoProviders();
    await db().transaction((tx) => drawFromPool(tx, p.first, 100, {}));
    await caller.admin.pools.archive({ provider: p.first, reason: 'empty and unused' });
    const restored = await caller.admin.pools.restore({ provider: p.first, reason: 'back in use' });
    expect(restored).toMatchObject({ status: 'suspended', archivedAt: null });
    expect((await caller.admin.pools.resume({ provider: p.first, reason: 'serve again' })).status).toBe('depleted');
    const actions = await db().select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.targetId, p.first));
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['pool.archive', 'pool.restore', 'pool.resume']));
  });
});
