import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { waitFor } from '../test/wait';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemAlerts } from '../alerts/tables';
import { cliActor } from '../auth/audit';
import { grantCredits } from '../ledger/admin-ops';
import { boundToCaller, requestHash } from '../ledger/request-hash';
import { poolTotal } from '../pools/draw';
import { creditPoolTransactions } from '../pools/tables';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { balanceRow, expectLedgerClean, key, newUser, reasonOf } from '../test/ledger-helpers';
import { expectPoolsClean } from '../test/pool-helpers';
import { configureProviders } from '../test/provider-helpers';
import { runEnhancement } from './gateway';
import { enhancementRequests, providerCalls, userNotifications } from './tables';

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
const fakes: Awaited<ReturnType<typeof startFakeProvider>>[] = [];

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true', CIRCUIT_FAILURE_THRESHOLD: '3', CIRCUIT_COOLDOWN_SECONDS: '4' });
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
async function fake(kind: 'fal' | 'kie' | 'nanobanana' | 'google') {
  const f = await startFakeProvider(kind);
  fakes.push(f);
  return f;
}
const enhance = (userId: string, enhancementType: 'lighting' | 'upscale' = 'upscale', idempotencyKey = key()) =>
  runEnhancement(env.deps.gateway, { userId, inputImageUrl: images.inputUrl, enhancementType, idempotencyKey });
const callsOf = (requestProvider: string) => db().select().from(providerCalls).where(eq(providerCalls.provider, requestProvider));

describe('[GATEWAY] priority fallback with one charge', () => {
  it('500, then a timeout, then success: one credit charged, the third pool drawn at its cost, two failures recorded', async () => {
    const [a, b, c] = await Promise.all([fake('fal'), fake('kie'), fake('nanobanana')]);
    a.state.behaviour = 'error500';
    b.state.behaviour = 'timeout';
    const names = { a: uniqueId('fal').toLowerCase(), b: uniqueId('kie').toLowerCase(), c: uniqueId('nb').toLowerCase() };
    await configureProviders(env.deps, [
      { name: names.a, kind: 'fal', baseUrl: a.url, costPerCredit: '0.02' },
      { name: names.b, kind: 'kie', baseUrl: b.url, costPerCredit: '0.03', timeoutMs: 400 },
      { name: names.c, kind: 'nanobanana', baseUrl: c.url, costPerCredit: '0.045' },
    ]);
    const userId = await newUser(db(), 'plus');
    const result = await enhance(userId);
    expect(result).toMatchObject({ status: 'enhanced', provider: names.c, costUsd: '0.045000', creditSource: 'user_credits' });
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
    expect(await poolTotal(db(), names.a)).toBe(100);
    expect(await poolTotal(db(), names.b)).toBe(100);
    expect(await poolTotal(db(), names.c)).toBe(99);
    const [failA] = await callsOf(names.a);
    const [failB] = await callsOf(names.b);
    expect(failA).toMatchObject({ outcome: 'failure', httpStatus: 500, errorKind: 'http' });
    expect(failB).toMatchObject({ outcome: 'failure', errorKind: 'timeout' });
    expect((await callsOf(names.c))[0]).toMatchObject({ outcome: 'success' });
    const captured = await db().execute(sql`select provider, cost_usd::text from credit_transactions where user_id = ${userId} and transaction_type = 'capture'`);
    expect(JSON.stringify(captured)).toContain(names.c);
  });

  it('a replay of the idempotency key returns the first result without calling anyone again', async () => {
    const f = await fake('fal');
    await configureProviders(env.deps, [{ name: uniqueId('fal').toLowerCase(), kind: 'fal', baseUrl: f.url }]);
    const userId = await newUser(db(), 'pro');
    const k = key();
    const first = await enhance(userId, 'upscale', k);
    const seen = f.requests.length;
    const again = await Promise.all([enhance(userId, 'upscale', k), enhance(userId, 'upscale', k)]);
    expect(again).toEqual([first, first]);
    expect(f.requests.length).toBe(seen);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 24 });
    expect(await reasonOf(runEnhancement(env.deps.gateway, { userId, inputImageUrl: images.inputUrl, enhancementType: 'color', idempotencyKey: k }))).toBe('IDEMPOTENCY_CONFLICT');
  });
});

describe('[GATEWAY] graceful degradation', () => {
  it('all fail on lighting: credit released, css filter fallback with a baked image, the user notified and an admin alerted', async () => {
    const f = await fake('google');
    f.state.behaviour = 'error500';
    await configureProviders(env.deps, [{ name: uniqueId('g').toLowerCase(), kind: 'google', baseUrl: f.url }]);
    const userId = await newUser(db(), 'plus');
    const result = await enhance(userId, 'lighting');
    expect(result).toMatchObject({
      status: 'degraded',
      type: 'css_filter_fallback',
      cssFilter: 'brightness(1.2) contrast(1.1) saturate(1.1)',
      originalUrl: images.inputUrl,
    });
    if (result.status !== 'degraded') throw new Error('expected a degraded result');
    expect(result.enhancedUrl).toMatch(/\/media\/.+\.png$/);
    expect(result.degradationReason).toContain('HTTP 500');
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10, consumed: 0 });
    const notices = await db().select().from(userNotifications).where(eq(userNotifications.userId, userId));
    expect(notices.map((n) => [n.type, n.title, n.message, n.action])).toEqual([
      [
        'enhancement_degraded',
        'Basic lighting correction applied',
        'AI enhancement is busy right now, so a basic lighting correction was applied. No credit was charged.',
        { kind: 'retry', label: 'Try the AI enhancement again', retryAfterSeconds: 1800 },
      ],
    ]);
    const alerts = await db()
      .select()
      .from(systemAlerts)
      .where(and(eq(systemAlerts.type, 'enhancement_degraded'), eq(systemAlerts.level, 'error')));
    expect(alerts.length).toBeGreaterThan(0);
  });

  it('all fail on another type: a suggestion to retry in 30 minutes', async () => {
    const f = await fake('kie');
    f.state.behaviour = 'fail_job';
    await configureProviders(env.deps, [{ name: uniqueId('kie').toLowerCase(), kind: 'kie', baseUrl: f.url }]);
    const userId = await newUser(db(), 'plus');
    expect(await enhance(userId, 'upscale')).toMatchObject({ status: 'degraded', type: 'suggestion_fallback', retryAfter: 1800, enhancedUrl: images.inputUrl });
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10 });
    const notices = await db().select().from(userNotifications).where(eq(userNotifications.userId, userId));
    expect(notices.map((n) => [n.title, n.message, n.action])).toEqual([
      [
        'Enhancement unavailable',
        'AI enhancement is temporarily unavailable. Please try again in 30 minutes. No credit was charged.',
        { kind: 'retry', label: 'Try the AI enhancement again', retryAfterSeconds: 1800 },
      ],
    ]);
  });

  it('no active provider at all degrades too, and a provider whose pool is empty is skipped', async () => {
    const f = await fake('fal');
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url, poolCredits: 0 }]);
    const userId = await newUser(db(), 'plus');
    const result = await enhance(userId);
    expect(result).toMatchObject({ status: 'degraded', degradationReason: expect.stringContaining('pool cannot pay') });
    expect(f.requests).toHaveLength(0);
    expect((await callsOf(name))[0]).toMatchObject({ outcome: 'skipped' });
  });
});

describe('[GATEWAY] circuit breaker', () => {
  it('opens after 3 failures, then lets exactly one trial through under concurrent load, and closes on success', async () => {
    const f = await fake('fal');
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url, poolCredits: 1000 }]);
    const userId = await newUser(db(), 'pro');
    f.state.behaviour = 'error500';
    for (let i = 0; i < 3; i++) await enhance(userId);
    expect(await env.deps.gateway.breaker.state(name)).toBe('open');
    const before = f.requests.length;
    expect(await enhance(userId)).toMatchObject({ status: 'degraded', degradationReason: expect.stringContaining('circuit open') });
    expect(f.requests.length).toBe(before);

    await waitFor(async () => (await env.deps.gateway.breaker.state(name)) === 'half_open', { what: 'the circuit to half-open' });
    f.state.behaviour = 'ok';
    f.state.delayMs = 100;
    const results = await Promise.all(Array.from({ length: 12 }, () => enhance(userId)));
    expect(results.filter((r) => r.status === 'enhanced')).toHaveLength(1);
    // fal submits once, then polls: one trial is one submission.
    expect(f.requests.slice(before).filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(await env.deps.gateway.breaker.state(name)).toBe('closed');
    f.state.delayMs = 0;
    expect((await enhance(userId)).status).toBe('enhanced');
  });
});

describe('[GATEWAY] a circuit past its cool-down admits before it draws', () => {
  // A failed health check dated a cool-down ago leaves the circuit half-open now: one trial may pass.
  const halfOpen = (name: string) => env.deps.gateway.breaker.onHealthCheck(name, false, Date.now() - 5_000);
  const poolRows = (name: string) => db().select().from(creditPoolTransactions).where(eq(creditPoolTransactions.provider, name));

  it('a request turned away because another holds the trial draws nothing from the pool and calls nothing', async () => {
    const f = await fake('fal');
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url }]);
    await halfOpen(name);
    expect(await env.deps.gateway.breaker.admit(name)).toBe('trial');
    const entriesBefore = (await poolRows(name)).length;
    const userId = await newUser(db(), 'plus');
    expect(await enhance(userId)).toMatchObject({ status: 'degraded', degradationReason: expect.stringContaining('circuit open') });
    expect(f.requests).toHaveLength(0);
    expect(await poolRows(name)).toHaveLength(entriesBefore);
    expect(await poolTotal(db(), name)).toBe(100);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10 });
    expect((await callsOf(name)).map((c) => [c.outcome, c.error])).toEqual([['skipped', 'circuit open']]);
  });

  it("the trial a provider's spent minute turns away is handed back for the next request", async () => {
    const f = await fake('fal');
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url, rateLimitPerMinute: 1 }]);
    const userId = await newUser(db(), 'plus');
    expect((await enhance(userId)).status).toBe('enhanced');
    await halfOpen(name);
    expect(await enhance(userId)).toMatchObject({ status: 'degraded', degradationReason: expect.stringContaining('rate limit reached') });
    expect(await env.deps.gateway.breaker.admit(name)).toBe('trial');
    await env.deps.gateway.breaker.onNeutral(name, 'trial');
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
    expect(await poolTotal(db(), name)).toBe(99);
  });

  it("a request the open circuit turns away leaves the provider's minute as it was (both are asked at once)", async () => {
    const f = await fake('fal');
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url, rateLimitPerMinute: 1 }]);
    await env.deps.gateway.breaker.onHealthCheck(name, false);
    const userId = await newUser(db(), 'plus');
    expect(await enhance(userId)).toMatchObject({ status: 'degraded', degradationReason: expect.stringContaining('circuit open') });
    await env.deps.gateway.breaker.onHealthCheck(name, true);
    // The minute's one request is still there for the first request after the circuit closes.
    expect(await enhance(userId)).toMatchObject({ status: 'enhanced', provider: name });
    expect(f.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
    expect(await poolTotal(db(), name)).toBe(99);
  });

  it('the trial is handed back when the draw throws (the database refuses it), not left to time out', async () => {
    const f = await fake('fal');
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url }]);
    const userId = await newUser(db(), 'plus');
    await halfOpen(name);
    // The draw's own statement fails, as it would with the database away mid-request.
    const fn = `refuse_draw_${name.replace(/\W/g, '_')}`;
    await db().execute(
      sql.raw(`create function ${fn}() returns trigger language plpgsql as $$ begin raise exception 'draw refused in this test'; end $$;
        create trigger ${fn} before update on credit_pool_stripes for each row when (new.provider = '${name}') execute function ${fn}();`),
    );
    try {
      const err = (await enhance(userId).catch((e: unknown) => e)) as Error & { cause?: Error };
      expect(err.cause?.message).toMatch(/draw refused in this test/);
    } finally {
      await db().execute(sql.raw(`drop trigger ${fn} on credit_pool_stripes; drop function ${fn}();`));
    }
    expect(f.requests).toHaveLength(0);
    expect(await env.deps.gateway.breaker.admit(name)).toBe('trial');
    await env.deps.gateway.breaker.onNeutral(name, 'trial');
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10 });
    expect(await poolTotal(db(), name)).toBe(100);
  });
  it('the trial admitted ahead of a hold that is then refused (a free user with nothing left) is handed back, and nothing is drawn', async () => {
    const f = await fake('fal');
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url }]);
    await halfOpen(name);
    const entriesBefore = (await poolRows(name)).length;
    expect(await reasonOf(enhance(await newUser(db(), 'free')))).toBe('INSUFFICIENT_CREDITS');
    expect(f.requests).toHaveLength(0);
    expect(await poolRows(name)).toHaveLength(entriesBefore);
    expect(await env.deps.gateway.breaker.admit(name)).toBe('trial');
    await env.deps.gateway.breaker.onNeutral(name, 'trial');
  });
});

describe('[GATEWAY] misbehaving providers are failed attempts with a clear recorded error', () => {
  it.each([
    ['malformed', /malformed|unexpected/i],
    ['slow_body', /timed out/i],
    ['huge_body', /limit/i],
    ['redirect_private', /redirect/i],
    ['reset', /failed|socket|reset|closed/i],
  ] as const)('%s', async (behaviour, message) => {
    const f = await fake('fal');
    f.state.behaviour = behaviour;
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url, timeoutMs: 800 }]);
    const userId = await newUser(db(), 'plus');
    expect((await enhance(userId)).status).toBe('degraded');
    const [call] = await callsOf(name);
    expect(call!.outcome).toBe('failure');
    expect(call!.error).toMatch(message);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10 });
    expect(await poolTotal(db(), name)).toBe(100);
  });
});

describe('[GATEWAY] concurrency and input', () => {
  it('50 concurrent enhance.run for a user with 5 credits and no pool access: exactly 5 enhanced', async () => {
    await configureProviders(env.deps, [{ name: uniqueId('local').toLowerCase(), kind: 'local', baseUrl: 'http://localhost' }]);
    const userId = await newUser(db(), 'free');
    await grantCredits(db(), cliActor, { userId, credits: 5, reason: 'test grant' });
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () =>
        enhance(userId).then(
          (r) => r.status,
          (e: { reason?: string }) => e.reason ?? 'error',
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'enhanced')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'INSUFFICIENT_CREDITS')).toHaveLength(45);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 0 });
  });

  it('refuses private image URLs unless allowed, and non-http URLs', async () => {
    const strict = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'false' });
    try {
      const userId = await newUser(strict.deps.dbHandle.db, 'pro');
      const err = await runEnhancement(strict.deps.gateway, { userId, inputImageUrl: images.inputUrl, enhancementType: 'color', idempotencyKey: key() }).catch((e: Error) => e);
      expect(err).toMatchObject({ reason: 'BAD_REQUEST', message: expect.stringContaining('private') });
      expect(await balanceRow(strict.deps.dbHandle.db, userId)).toMatchObject({ total: 25 });
    } finally {
      await strict.close();
    }
  });
});

describe('[LEDGER] a claim left by a process that died mid-request', () => {
  it('[LEDGER] replays racing on it settle it once: one degradation, one notice, the same answer', async () => {
    const f = await fake('fal');
    await configureProviders(env.deps, [{ name: uniqueId('fal').toLowerCase(), kind: 'fal', baseUrl: f.url }]);
    const userId = await newUser(db(), 'plus');
    const k = key();
    const hash = requestHash('enhance', { userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', moodboardId: undefined });
    // Claimed two hours ago by a process that died before it held anything.
    const [claim] = await db()
      .insert(enhancementRequests)
      .values({ idempotencyKey: k, requestHash: hash, userId, status: 'processing', createdAt: sql`now() - interval '2 hours'` })
      .returning({ id: enhancementRequests.id });
    const answers = await Promise.all([enhance(userId, 'upscale', k), enhance(userId, 'upscale', k), enhance(userId, 'upscale', k)]);
    expect(answers.map((a) => a.status)).toEqual(['degraded', 'degraded', 'degraded']);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect((await db().select().from(enhancementRequests).where(eq(enhancementRequests.id, claim!.id)))[0]).toMatchObject({ status: 'degraded', result: answers[0] });
    expect(await db().select().from(userNotifications).where(eq(userNotifications.userId, userId))).toHaveLength(1);
    expect(f.requests).toHaveLength(0);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10 });
  });

  it("[LEDGER] another API key's replay neither takes it over nor waits on it: IDEMPOTENCY_CONFLICT; its own key settles it (ADR 029)", async () => {
    const f = await fake('fal');
    await configureProviders(env.deps, [{ name: uniqueId('fal').toLowerCase(), kind: 'fal', baseUrl: f.url }]);
    const userId = await newUser(db(), 'plus');
    const [owner, other] = [randomUUID(), randomUUID()];
    const k = key();
    const input = { userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale' as const, idempotencyKey: k };
    const hash = boundToCaller(requestHash('enhance', { userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', moodboardId: undefined }), owner);
    const [claim] = await db()
      .insert(enhancementRequests)
      .values({ idempotencyKey: k, requestHash: hash, userId, status: 'processing', createdAt: sql`now() - interval '2 hours'` })
      .returning({ id: enhancementRequests.id, createdAt: enhancementRequests.createdAt });
    expect(await reasonOf(runEnhancement(env.deps.gateway, input, { apiKeyId: other }))).toBe('IDEMPOTENCY_CONFLICT');
    expect(await reasonOf(runEnhancement(env.deps.gateway, input))).toBe('IDEMPOTENCY_CONFLICT');
    expect((await db().select().from(enhancementRequests).where(eq(enhancementRequests.id, claim!.id)))[0]).toMatchObject({ status: 'processing', createdAt: claim!.createdAt });
    expect(await runEnhancement(env.deps.gateway, input, { apiKeyId: owner })).toMatchObject({ status: 'degraded' });
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10 });
  });
});
