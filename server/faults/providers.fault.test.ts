import { TRPCError } from '@trpc/server';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { EnhanceResult } from '../../shared/enhance';
import { enhancementTypes } from '../../shared/credits';
import type { Tier } from '../../shared/enums';
import { cliActor } from '../auth/audit';
import { col, countRow, queryRows } from '../db/rows';
import { grantCredits } from '../ledger/admin-ops';
import { poolTotal } from '../pools/draw';
import { startFakeProvider, startImageServer, type FakeBehaviour, type FakeKind } from '../test/fake-providers';
import { apiKeyCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { balanceRow, key, newUser, setAllowanceBalance } from '../test/ledger-helpers';
import { configureProviders, type TestProvider } from '../test/provider-helpers';
import { badlySettledReservations, expectReconciled } from './lib/reconciled';

/**
 * [PROVIDER STORMS] 40 concurrent enhance.run against real (fake) provider servers that time out,
 * answer 500, send malformed or endless bodies, reset connections, or do any of it at random per
 * request, with the failing provider first and sometimes a good one after it. Whatever the storm:
 * each user pays exactly one credit per enhanced result and nothing else, every hold is settled
 * once, every pool pays exactly its captures, and every failed attempt is on record with its error.
 */

const CONCURRENCY = 40;
const FAIL_TIMEOUT_MS = 600;
const SEED = Number(process.env.STORM_SEED ?? 4_242);

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
let enhance: Awaited<ReturnType<typeof apiKeyCaller>>['caller']['enhance'];
const fakes: Awaited<ReturnType<typeof startFakeProvider>>[] = [];
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  images = await startImageServer();
  enhance = (await apiKeyCaller(env.deps, ['enhance'])).caller.enhance;
});
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  await images?.close();
  await env?.close();
});

/** mulberry32: a small seeded PRNG, so a random storm replays with STORM_SEED. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const RANDOM_BEHAVIOURS: FakeBehaviour[] = ['ok', 'ok', 'ok', 'error500', 'timeout', 'malformed', 'invalid_json', 'slow_body', 'reset', 'fail_job'];

type Fake = Awaited<ReturnType<typeof startFakeProvider>>;
async function fake(kind: FakeKind, behaviour: FakeBehaviour | 'random', seed = SEED): Promise<Fake> {
  const f = await startFakeProvider(kind);
  fakes.push(f);
  if (behaviour === 'random') {
    // The fake reads state.behaviour once per request: a getter makes each request's misbehaviour its own.
    const next = prng(seed);
    Object.defineProperty(f.state, 'behaviour', { get: () => RANDOM_BEHAVIOURS[Math.floor(next() * RANDOM_BEHAVIOURS.length)]!, configurable: true });
  } else {
    f.state.behaviour = behaviour;
  }
  return f;
}

/** Users of every kind with known balances: plus and pro overflow to the platform, free ones only have granted credits. */
async function usersWithBalances() {
  const plan: { tier: Tier; allowance: number; grant: number }[] = [
    { tier: 'plus', allowance: 2, grant: 0 },
    { tier: 'plus', allowance: 2, grant: 0 },
    { tier: 'plus', allowance: 0, grant: 1 },
    { tier: 'pro', allowance: 3, grant: 0 },
    { tier: 'pro', allowance: 25, grant: 0 },
    { tier: 'free', allowance: 0, grant: 3 },
    { tier: 'free', allowance: 0, grant: 1 },
    { tier: 'free', allowance: 0, grant: 0 },
  ];
  const users: { userId: string; tier: Tier; initial: number }[] = [];
  for (const p of plan) {
    const userId = await newUser(db(), p.tier);
    await setAllowanceBalance(db(), userId, p.allowance);
    if (p.grant) await grantCredits(db(), cliActor, { userId, credits: p.grant, reason: 'storm fixture' });
    users.push({ userId, tier: p.tier, initial: (await balanceRow(db(), userId)).total });
  }
  return users;
}

/** `($1, $2, …)` for an IN list. */
const inList = (values: string[]) =>
  sql`(${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )})`;

type Outcome = { userId: string; result?: EnhanceResult; refusal?: string };

async function storm(users: { userId: string }[]): Promise<Outcome[]> {
  return Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i): Promise<Outcome> => {
      const userId = users[i % users.length]!.userId;
      const enhancementType = enhancementTypes[i % enhancementTypes.length]!;
      try {
        return { userId, result: await enhance.run({ userId, inputImageUrl: images.inputUrl, enhancementType, idempotencyKey: key() }) };
      } catch (err) {
        if (err instanceof TRPCError) return { userId, refusal: (err.cause as { reason?: string } | undefined)?.reason ?? err.code };
        throw err;
      }
    }),
  );
}

type Scenario = { name: string; failing: { kind: FakeKind; behaviour: FakeBehaviour | 'random' }[]; good: boolean; goodPool?: number };

const scenarios: Scenario[] = [
  { name: 'timeouts', failing: [{ kind: 'kie', behaviour: 'timeout' }], good: false },
  { name: 'timeouts, then a good provider', failing: [{ kind: 'kie', behaviour: 'timeout' }], good: true },
  { name: '5xx storm', failing: [{ kind: 'fal', behaviour: 'error500' }], good: false },
  { name: '5xx storm, then a good provider whose pool runs dry mid-storm', failing: [{ kind: 'fal', behaviour: 'error500' }], good: true, goodPool: 12 },
  { name: 'malformed bodies', failing: [{ kind: 'nanobanana', behaviour: 'malformed' }], good: false },
  { name: 'malformed bodies, then a good provider', failing: [{ kind: 'google', behaviour: 'malformed' }], good: true },
  { name: 'slow bodies', failing: [{ kind: 'google', behaviour: 'slow_body' }], good: false },
  { name: 'slow bodies, then a good provider', failing: [{ kind: 'fal', behaviour: 'slow_body' }], good: true },
  { name: 'connection resets', failing: [{ kind: 'fal', behaviour: 'reset' }], good: false },
  { name: 'connection resets, then a good provider', failing: [{ kind: 'kie', behaviour: 'reset' }], good: true },
  {
    name: 'random misbehaviour per request on two providers',
    failing: [
      { kind: 'fal', behaviour: 'random' },
      { kind: 'google', behaviour: 'random' },
    ],
    good: false,
  },
  {
    name: 'random misbehaviour per request, then a good provider',
    failing: [
      { kind: 'google', behaviour: 'random' },
      { kind: 'kie', behaviour: 'random' },
    ],
    good: true,
    goodPool: 20,
  },
];

const POOL = 100;

describe('[PROVIDER STORMS] 40 concurrent enhancements against misbehaving providers', () => {
  it.each(scenarios.map((s, i) => [s.name, s, i] as const))(
    '%s: one credit per enhanced result, holds settled once, pools pay their captures, failures on record',
    async (_name, scenario, index) => {
      const failing = await Promise.all(scenario.failing.map((f, i) => fake(f.kind, f.behaviour, SEED + index * 10 + i)));
      const providers: (TestProvider & { fake: Fake; pool: number })[] = scenario.failing.map((f, i) => ({
        name: uniqueId(`${f.kind}-bad`).toLowerCase(),
        kind: f.kind,
        baseUrl: failing[i]!.url,
        timeoutMs: FAIL_TIMEOUT_MS,
        poolCredits: POOL,
        fake: failing[i]!,
        pool: POOL,
      }));
      if (scenario.good) {
        const good = await fake('google', 'ok');
        const pool = scenario.goodPool ?? POOL;
        providers.push({ name: uniqueId('google-good').toLowerCase(), kind: 'google', baseUrl: good.url, timeoutMs: 5_000, poolCredits: pool, fake: good, pool });
      }
      await configureProviders(
        env.deps,
        providers.map(({ fake: _f, pool: _p, ...p }) => p),
      );
      const users = await usersWithBalances();

      const outcomes = await storm(users);

      // Every request is answered: enhanced, degraded, or refused for credits — nothing else.
      const unexpected = outcomes.filter((o) => !o.result && o.refusal !== 'INSUFFICIENT_CREDITS' && o.refusal !== 'PLATFORM_CREDITS_DEPLETED');
      expect(unexpected).toEqual([]);
      const enhanced = outcomes.flatMap((o) => (o.result?.status === 'enhanced' ? [{ userId: o.userId, ...o.result }] : []));
      // Failing providers serve nothing (a random one may serve some); a good one after them serves.
      if (scenario.good) expect(enhanced.length).toBeGreaterThan(0);
      else if (scenario.failing.every((f) => f.behaviour !== 'random')) expect(enhanced).toEqual([]);
      expect(enhanced.filter((e) => e.creditSource === 'platform_pool' && users.find((u) => u.userId === e.userId)!.tier === 'free')).toEqual([]);

      // The user leg: each user paid one credit per enhancement charged to their own credits, and nothing for the rest.
      for (const u of users) {
        const paid = enhanced.filter((e) => e.userId === u.userId && e.creditSource === 'user_credits').length;
        expect({ userId: u.userId, balance: (await balanceRow(db(), u.userId)).total }).toEqual({ userId: u.userId, balance: u.initial - paid });
      }

      // Holds: none pending, each with one hold entry and one settling entry; captured ones are exactly the enhanced.
      const userIds = users.map((u) => u.userId);
      const holds = await queryRows(
        db(),
        z.object({ status: col.text, n: col.integer }),
        sql`select status, count(*)::int as n from credit_reservations where user_id in ${inList(userIds)} group by status`,
      );
      const byStatus = Object.fromEntries(holds.map((h) => [h.status, h.n]));
      expect(byStatus.pending ?? 0).toBe(0);
      expect(byStatus.captured ?? 0).toBe(enhanced.length);
      expect(await badlySettledReservations(db())).toEqual([]);
      const unfinished = await queryRows(db(), countRow, sql`select count(*)::int as n from enhancement_requests where status = 'processing'`);
      expect(unfinished[0]!.n).toBe(0);

      // The provider leg: each pool paid exactly one credit per enhancement it served; every attempt is on record.
      for (const p of providers) {
        const served = enhanced.filter((e) => e.provider === p.name).length;
        const calls = await queryRows(
          db(),
          z.object({ outcome: col.text, n: col.integer, without_error: col.integer }),
          sql`select outcome, count(*)::int as n, count(*) filter (where error is null or error_kind is null)::int as without_error
            from provider_calls where provider = ${p.name} group by outcome`,
        );
        const count = (outcome: string) => calls.find((c) => c.outcome === outcome)?.n ?? 0;
        const submissions = p.fake.requests.filter((r) => r.method === 'POST').length;
        expect({ provider: p.name, pool: await poolTotal(db(), p.name) }).toEqual({ provider: p.name, pool: p.pool - served });
        expect({ provider: p.name, successes: count('success') }).toEqual({ provider: p.name, successes: served });
        // Every submission the fake saw is a call on record. A transient failure is called once more, so an
        // attempt is at most two calls; a retry cut off before the fake read it (its deadline, a dead
        // socket) is on record without a submission.
        const onRecord = count('success') + count('failure');
        const attempts = await queryRows(db(), countRow, sql`select count(distinct request_id)::int as n from provider_calls where provider = ${p.name} and outcome <> 'skipped'`);
        expect({ provider: p.name, seenOnRecord: onRecord >= submissions }).toEqual({ provider: p.name, seenOnRecord: true });
        expect({ provider: p.name, atMostOneRetry: onRecord <= 2 * attempts[0]!.n }).toEqual({ provider: p.name, atMostOneRetry: true });
        expect({ provider: p.name, failuresWithoutError: calls.find((c) => c.outcome === 'failure')?.without_error ?? 0 }).toEqual({ provider: p.name, failuresWithoutError: 0 });
      }
      const failingAttempts = await queryRows(
        db(),
        countRow,
        sql`select count(*)::int as n from provider_calls where outcome = 'failure' and provider in ${inList(providers.slice(0, scenario.failing.length).map((p) => p.name))}`,
      );
      expect(failingAttempts[0]!.n).toBeGreaterThan(0);

      // Each captured hold was served by exactly one successful call, on the provider it was captured with.
      const mismatched = await queryRows(
        db(),
        z.object({ id: col.id }),
        sql`select r.id::text from credit_reservations r
          where r.status = 'captured' and r.user_id in ${inList(userIds)}
            and (select count(*) from provider_calls c where c.reservation_id = r.id::text and c.outcome = 'success' and c.provider = r.provider) <> 1`,
      );
      expect(mismatched).toEqual([]);
      const releasedButServed = await queryRows(
        db(),
        z.object({ id: col.id }),
        sql`select r.id::text from credit_reservations r
          where r.status <> 'captured' and exists (select 1 from provider_calls c where c.reservation_id = r.id::text and c.outcome = 'success')`,
      );
      expect(releasedButServed).toEqual([]);

      await expectReconciled(db());
    },
    120_000,
  );
});
