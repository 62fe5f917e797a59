import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { InProcessRunner } from '../jobs/in-process-runner';
import { poolTotal } from '../pools/draw';
import { providerCalls } from '../providers/tables';
import { startFakeProvider, startImageServer, type FakeKind } from '../test/fake-providers';
import { apiKeyCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { balanceRow, key, newUser } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { expectReconciled } from './lib/reconciled';

/**
 * [POLL RETRY] An async provider (fal's queue, Kie.ai, NanoBanana) bills per submitted task. When a
 * poll of a running task breaks (connection reset, 503 without Retry-After), the gateway's one
 * transient retry must poll that same task again: a second submit would be a second task the
 * provider bills, for an image nobody reads. Once this failed (two submits per enhancement); it
 * stays here, for every async provider, on the synchronous and the queued path.
 */

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
let caller: Awaited<ReturnType<typeof apiKeyCaller>>['caller'];
const fakes: Awaited<ReturnType<typeof startFakeProvider>>[] = [];
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  // No Redis: enhance.submit's job runs in this process, so the test waits on it directly.
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true', REDIS_URL: 'off' });
  images = await startImageServer();
  caller = (await apiKeyCaller(env.deps, ['enhance'])).caller;
});
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  await images?.close();
  await env?.close();
});

/** The path of each provider's submit, and the task id a poll asks about. */
const submitPath: Record<Exclude<FakeKind, 'google'>, RegExp> = {
  // fal: POST {model} (with ?fal_webhook=… when it may call back); its cancel is a PUT under /requests/.
  fal: /^\/(?!.*\/requests\/)/,
  kie: /^\/api\/v1\/jobs\/createTask/,
  nanobanana: /^\/api\/v1\/nanobanana\/generate/,
};
function polledTask(kind: FakeKind, path: string): string | null {
  if (kind === 'fal') return /\/requests\/([^/]+)\/status$/.exec(path)?.[1] ?? null;
  return new URL(path, 'http://x').searchParams.get('taskId');
}

const cases = (['fal', 'kie', 'nanobanana'] as const).flatMap((kind) => (['reset', 'error503'] as const).flatMap((fault) => (['run', 'submit'] as const).map((path) => ({ kind, fault, path }))));

describe('[POLL RETRY] a transient failure while polling polls the same task again, never submits a second one', () => {
  it.each(cases.map((c) => [`${c.kind}, ${c.fault} on a poll, enhance.${c.path}`, c] as const))('%s', async (_name, { kind, fault, path }) => {
    const fake = await startFakeProvider(kind);
    fakes.push(fake);
    const name = uniqueId(`${kind}-poll`).toLowerCase();
    await configureProviders(env.deps, [{ name, kind, baseUrl: fake.url, timeoutMs: 8_000, costPerCredit: '0.02' }]);
    // The submit and the first poll answer; the second poll breaks; then the provider answers again.
    fake.state.behaviour = fault;
    fake.state.failAfter = 2;
    fake.state.failTimes = 1;
    const userId = await newUser(db(), 'plus');
    const input = { userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale' as const, idempotencyKey: key() };

    if (path === 'run') {
      expect(await caller.enhance.run(input)).toMatchObject({ status: 'enhanced', provider: name, costUsd: '0.020000' });
    } else {
      const { enhancementId } = await caller.enhance.submit(input);
      await (env.deps.jobs as InProcessRunner).idle();
      expect(await caller.enhance.get({ enhancementId })).toMatchObject({ status: 'enhanced', provider: name, costUsd: '0.020000' });
    }

    const api = fake.requests.filter((r) => r.path !== '/files/output.png');
    const submits = api.filter((r) => r.method === 'POST' && submitPath[kind].test(r.path));
    expect(submits).toHaveLength(1);
    // Every poll, the broken one and those after the retry, asked about the one task submitted.
    const polled = new Set(
      api
        .filter((r) => r.method === 'GET')
        .map((r) => polledTask(kind, r.path))
        .filter((id) => id !== null),
    );
    expect([...polled]).toEqual([`${kind}-1`]);
    expect(api.filter((r) => r.method === 'GET').length).toBeGreaterThanOrEqual(3);

    // The broken poll is on record as a failure, the same attempt then served; one credit from the pool, one from the user.
    const calls = await db().select().from(providerCalls).where(eq(providerCalls.provider, name)).orderBy(asc(providerCalls.id));
    expect(calls.map((c) => c.outcome)).toEqual(['failure', 'success']);
    expect(new Set(calls.map((c) => c.requestId)).size).toBe(1);
    expect(await poolTotal(db(), name)).toBe(99);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
    await expectReconciled(db());
  });
});
