import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { balanceRow, key, newUser, reasonOf } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { poolTotal } from '../pools/draw';
import { expectReconciled, pendingHolds } from './lib/reconciled';

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
let fal: Awaited<ReturnType<typeof startFakeProvider>>;

beforeAll(async () => {
  // The default circuit: five failures in a minute open it for everybody.
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  [images, fal] = await Promise.all([startImageServer(), startFakeProvider('fal')]);
});
afterAll(async () => {
  await Promise.all([images.close(), fal.close()]);
  await env.close();
});

describe('[GATEWAY] a caller cannot open a provider circuit with bad input images', () => {
  it('20 image URLs answering 500 are refused as BAD_REQUEST; the local provider then enhances a good one', async () => {
    const name = uniqueId('local').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'local', baseUrl: 'http://localhost' }]);
    const { caller } = await apiKeyCaller(env.deps, ['enhance']);
    const attacker = await newUser(env.deps.dbHandle.db, 'pro');
    for (let i = 0; i < 20; i++) {
      const bad = caller.enhance.run({ userId: attacker, inputImageUrl: `${images.url}/error500`, enhancementType: 'color', idempotencyKey: key() });
      expect(await reasonOf(bad)).toBe('BAD_REQUEST');
    }
    expect(await env.deps.gateway.breaker.state(name)).toBe('closed');
    expect(await balanceRow(env.deps.dbHandle.db, attacker)).toMatchObject({ total: 25, consumed: 0 });

    const victim = await newUser(env.deps.dbHandle.db, 'plus');
    const good = await caller.enhance.run({ userId: victim, inputImageUrl: images.inputUrl, enhancementType: 'color', idempotencyKey: key() });
    expect(good).toMatchObject({ status: 'enhanced', provider: name });
    expect(await pendingHolds(env.deps.dbHandle.db)).toBe(0);
    await expectReconciled(env.deps.dbHandle.db);
  });

  it('20 inputs a remote provider refuses with a 4xx are refused as BAD_REQUEST and refunded; the provider then serves a good one', async () => {
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: fal.url }]);
    const { caller } = await apiKeyCaller(env.deps, ['enhance']);
    const attacker = await newUser(env.deps.dbHandle.db, 'pro');
    fal.state.behaviour = 'error422';
    for (let i = 0; i < 20; i++) {
      const bad = caller.enhance.run({ userId: attacker, inputImageUrl: `${images.url}/not-there.png`, enhancementType: 'color', idempotencyKey: key() });
      expect(await reasonOf(bad)).toBe('BAD_REQUEST');
    }
    expect(await env.deps.gateway.breaker.state(name)).toBe('closed');
    expect(await poolTotal(env.deps.dbHandle.db, name)).toBe(100);

    fal.state.behaviour = 'ok';
    const victim = await newUser(env.deps.dbHandle.db, 'plus');
    const good = await caller.enhance.run({ userId: victim, inputImageUrl: images.inputUrl, enhancementType: 'color', idempotencyKey: key() });
    expect(good).toMatchObject({ status: 'enhanced', provider: name });
    expect(await poolTotal(env.deps.dbHandle.db, name)).toBe(99);
    await expectReconciled(env.deps.dbHandle.db);
  });
});
