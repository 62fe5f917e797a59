import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../app-deps';
import { checkAllProviders } from '../jobs/provider-health';
import { poolTotal } from '../pools/draw';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer, type FakeBehaviour } from '../test/fake-providers';
import { balanceRow, expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { expectPoolsClean } from '../test/pool-helpers';
import { configureProviders } from '../test/provider-helpers';
import { runEnhancement, type GatewayDeps } from './gateway';
import { retryAfterMs } from '../net/retry-after';
import { providerCalls } from './tables';

const COOLDOWN_MS = 30_000;
let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
const fakes: Awaited<ReturnType<typeof startFakeProvider>>[] = [];

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true', CIRCUIT_COOLDOWN_SECONDS: String(COOLDOWN_MS / 1000) });
  images = await startImageServer();
});
afterEach(async () => {
  await expectLedgerClean(db());
  await expectPoolsClean(db());
});
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  await images.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;

/** The gateway on a clock the test moves, and retries without the jittered pause. */
function clocked(start = Date.now()) {
  const clock = { t: start };
  const gateway: GatewayDeps = { ...env.deps.gateway, now: () => clock.t, retryDelayMs: () => 0 };
  const deps: AppDeps = { ...env.deps, gateway };
  const enhance = (userId: string) => runEnhancement(gateway, { userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() });
  return { clock, gateway, deps, enhance };
}

/** Two fal fakes: `a` first in priority, `b` the fallback, each with a 100-credit pool. */
async function twoProviders(opts: { timeoutMs?: number } = {}) {
  const [a, b] = await Promise.all([startFakeProvider('fal'), startFakeProvider('fal')]);
  fakes.push(a, b);
  const names = { a: uniqueId('fa').toLowerCase(), b: uniqueId('fb').toLowerCase() };
  await configureProviders(env.deps, [
    { name: names.a, kind: 'fal', baseUrl: a.url, costPerCredit: '0.02', timeoutMs: opts.timeoutMs ?? 2_000 },
    { name: names.b, kind: 'fal', baseUrl: b.url, costPerCredit: '0.03' },
  ]);
  return { a, b, names };
}

const submits = (f: { requests: { method: string }[] }) => f.requests.filter((r) => r.method === 'POST').length;
const callsOf = (provider: string) => db().select().from(providerCalls).where(eq(providerCalls.provider, provider)).orderBy(asc(providerCalls.id));

describe('[ROUTING] a provider whose last health check failed is skipped until a check passes', () => {
  it('skipped at once after the failed check, without a request to it; a passing check puts it back first', async () => {
    const { a, b, names } = await twoProviders();
    const { deps, enhance } = clocked();
    const userId = await newUser(db(), 'pro');

    a.state.behaviour = 'error500';
    expect(await checkAllProviders(deps)).toMatchObject({ unhealthy: [names.a] });
    a.state.behaviour = 'ok';
    const seen = a.requests.length;
    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: names.b, costUsd: '0.030000' });
    expect(a.requests.length).toBe(seen);
    expect(await callsOf(names.a)).toMatchObject([{ outcome: 'skipped', error: 'circuit open' }]);

    expect(await checkAllProviders(deps)).toMatchObject({ unhealthy: [] });
    expect(await env.deps.gateway.breaker.state(names.a, deps.gateway.now())).toBe('closed');
    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: names.a, costUsd: '0.020000' });
    expect([await poolTotal(db(), names.a), await poolTotal(db(), names.b)]).toEqual([99, 99]);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 23 });
    expect(submits(b)).toBe(1);
  });

  it('after the cool-down exactly one request goes through as the half-open probe, and its success closes the circuit', async () => {
    const { a, b, names } = await twoProviders();
    const { clock, deps, enhance } = clocked();
    const userId = await newUser(db(), 'pro');
    a.state.behaviour = 'error500';
    await checkAllProviders(deps);
    a.state.behaviour = 'ok';
    // Long enough that the probe is still running while the other requests arrive.
    a.state.delayMs = 150;

    clock.t += COOLDOWN_MS - 1_000;
    expect(await enhance(userId)).toMatchObject({ provider: names.b });
    expect(submits(a)).toBe(0);

    clock.t += 2_000;
    const results = await Promise.all(Array.from({ length: 6 }, () => enhance(userId)));
    expect(results.every((r) => r.status === 'enhanced')).toBe(true);
    expect(results.filter((r) => r.status === 'enhanced' && r.provider === names.a)).toHaveLength(1);
    expect(submits(a)).toBe(1);
    expect(await env.deps.gateway.breaker.state(names.a, clock.t)).toBe('closed');
    a.state.delayMs = 0;
    expect(await enhance(userId)).toMatchObject({ provider: names.a });

    expect(await poolTotal(db(), names.a)).toBe(98);
    expect(await poolTotal(db(), names.b)).toBe(100 - 6);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 25 - 8 });
    expect(submits(b)).toBe(6);
  });

  it('a failed probe keeps it out for another cool-down, even when a health check then passes', async () => {
    const { a, names } = await twoProviders();
    const { clock, deps, enhance } = clocked();
    const userId = await newUser(db(), 'plus');
    a.state.behaviour = 'error500';
    await checkAllProviders(deps);
    clock.t += COOLDOWN_MS + 1_000;
    expect(await enhance(userId)).toMatchObject({ provider: names.b });
    expect(submits(a)).toBe(1);
    // The probe failed after the check: the circuit's opening is the probe's now, not the check's.
    a.state.behaviour = 'ok';
    await checkAllProviders(deps);
    expect(await env.deps.gateway.breaker.state(names.a, clock.t)).toBe('open');
    clock.t += COOLDOWN_MS + 1_000;
    expect(await enhance(userId)).toMatchObject({ provider: names.a });
    expect(await poolTotal(db(), names.a)).toBe(99);
  });
});

describe('[ROUTING] Retry-After on a 429 or 503 is the minimum cool-down', () => {
  it.each([
    ['rate_limited', 429],
    ['error503', 503],
  ] as const)('%s with Retry-After: 120 keeps the provider out for 120 s, then lets one probe through', async (behaviour, status) => {
    const { a, names } = await twoProviders();
    const { clock, enhance } = clocked();
    const userId = await newUser(db(), 'pro');
    a.state.behaviour = behaviour;
    a.state.retryAfter = '120';
    a.state.failTimes = 1;
    const t0 = clock.t;

    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: names.b });
    // Not retried on the same provider: it said how long to wait.
    expect(submits(a)).toBe(1);
    expect(await callsOf(names.a)).toMatchObject([{ outcome: 'failure', httpStatus: status }]);
    const breaker = env.deps.gateway.breaker;
    expect(await breaker.state(names.a, t0 + 119_000)).toBe('open');
    expect(await breaker.state(names.a, t0 + 121_000)).toBe('half_open');

    // Past the circuit's own 30 s cool-down, still inside the provider's 120 s.
    clock.t = t0 + COOLDOWN_MS + 30_000;
    expect(await enhance(userId)).toMatchObject({ provider: names.b });
    expect(submits(a)).toBe(1);

    clock.t = t0 + 121_000;
    expect(await enhance(userId)).toMatchObject({ provider: names.a });
    expect(await breaker.state(names.a, clock.t)).toBe('closed');
    expect([await poolTotal(db(), names.a), await poolTotal(db(), names.b)]).toEqual([99, 98]);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 22 });
  });

  it('reads delay-seconds and HTTP-dates, and caps what a provider may ask for at an hour', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 12:01:30 GMT', now)).toBe(90_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('999999', now)).toBe(3_600_000);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });
});

describe('[ROUTING] a transient failure is retried once on the same provider, then falls back', () => {
  it.each(['error502', 'error503', 'reset'] as FakeBehaviour[])('%s every time: exactly two calls to it, then the fallback serves; one credit, one pool drawn', async (behaviour) => {
    const { a, b, names } = await twoProviders();
    const { enhance } = clocked();
    const userId = await newUser(db(), 'plus');
    a.state.behaviour = behaviour;
    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: names.b, costUsd: '0.030000' });
    expect(submits(a)).toBe(2);
    expect(submits(b)).toBe(1);
    expect((await callsOf(names.a)).map((c) => c.outcome)).toEqual(['failure', 'failure']);
    expect([await poolTotal(db(), names.a), await poolTotal(db(), names.b)]).toEqual([100, 99]);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
  });

  it('502 once: the retry serves; the pool is drawn once and the user charged once', async () => {
    const { a, b, names } = await twoProviders();
    const { enhance } = clocked();
    const userId = await newUser(db(), 'plus');
    a.state.behaviour = 'error502';
    a.state.failTimes = 1;
    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: names.a, costUsd: '0.020000' });
    expect(submits(a)).toBe(2);
    expect(submits(b)).toBe(0);
    expect((await callsOf(names.a)).map((c) => c.outcome)).toEqual(['failure', 'success']);
    expect([await poolTotal(db(), names.a), await poolTotal(db(), names.b)]).toEqual([99, 100]);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
    // One attempt, one outcome on the breaker: the retried failure did not count towards opening it.
    expect(await env.deps.gateway.breaker.state(names.a)).toBe('closed');
  });

  it('a reset while polling: the retry polls the same task, never submits a second one for the attempt', async () => {
    const { a, b, names } = await twoProviders();
    const { enhance } = clocked();
    const userId = await newUser(db(), 'plus');
    // The submit and one poll answer, then one poll breaks off: the task is still running at the provider.
    a.state.behaviour = 'reset';
    a.state.failAfter = 2;
    a.state.failTimes = 1;
    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: names.a });
    expect(submits(a)).toBe(1);
    expect(submits(b)).toBe(0);
    expect((await callsOf(names.a)).map((c) => c.outcome)).toEqual(['failure', 'success']);
    expect(await poolTotal(db(), names.a)).toBe(99);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
  });

  it('a 500 is not transient: one call, then the fallback', async () => {
    const { a, names } = await twoProviders();
    const { enhance } = clocked();
    const userId = await newUser(db(), 'plus');
    a.state.behaviour = 'error500';
    expect(await enhance(userId)).toMatchObject({ provider: names.b });
    expect(submits(a)).toBe(1);
  });
});

describe('[ROUTING] a fal request that times out is cancelled', () => {
  it('PUT {cancel_url} once the deadline passes; the pool is refunded, the fallback serves, one credit charged', async () => {
    const { a, names } = await twoProviders({ timeoutMs: 700 });
    const { enhance } = clocked();
    const userId = await newUser(db(), 'pro');
    a.state.pollsBeforeDone = 10_000;
    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: names.b });
    const cancels = a.requests.filter((r) => r.method === 'PUT');
    expect(cancels).toHaveLength(1);
    expect(cancels[0]).toMatchObject({ path: expect.stringMatching(/\/requests\/fal-1\/cancel$/), headers: { authorization: `Key key-${names.a}` } });
    const [call] = await callsOf(names.a);
    expect(call).toMatchObject({ outcome: 'failure', errorKind: 'timeout' });
    expect(call!.error).toMatch(/timed out.*; the request was cancelled$/);
    expect([await poolTotal(db(), names.a), await poolTotal(db(), names.b)]).toEqual([100, 99]);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 24 });
  });
});
