import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { balanceRow, newUser } from '../test/ledger-helpers';
import { checkoutEvent, postStripe, signStripe, TEST_STRIPE_SECRET } from '../test/stripe-events';
import { changedTables, tableFingerprint } from './lib/db-snapshot';
import { expectReconciled } from './lib/reconciled';

let env: TestEnv;
let app: FastifyInstance;
let base: string;
const db = () => env.deps.dbHandle.db;
const PACK = 'price_fault_pack1000';

beforeAll(async () => {
  env = await createTestEnv({ STRIPE_WEBHOOK_SECRET: TEST_STRIPE_SECRET });
  app = await buildApp(env.deps);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  const { caller } = await signedInCaller(env.deps, 'admin');
  await caller.admin.payments.prices.upsert({ priceId: PACK, kind: 'pack', credits: 1000 });
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

describe('[STRIPE] forged and replayed Stripe events grant nothing', () => {
  it('a captured signed event replayed past the tolerance, a body altered under a valid signature, a forged secret, a stripped or stuffed header: 400 each, only a refusal row written', async () => {
    const userId = await newUser(db(), 'free');
    const event = checkoutEvent({ userId, priceId: PACK, sessionId: `cs_${uniqueId('fault').replace(/-/g, '')}` });
    const payload = JSON.stringify(event);
    const captured = signStripe(payload, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    const fresh = signStripe(JSON.stringify(checkoutEvent({ userId, priceId: PACK })));
    const v1 = fresh.split(',v1=')[1]!;
    const before = await tableFingerprint(db());
    const attacks = [
      postStripe(base, payload, { signature: captured }),
      // Another event's valid signature over this body.
      postStripe(base, payload, { signature: fresh }),
      postStripe(base, event, { secret: 'whsec_guessed_secret' }),
      postStripe(base, event, { signature: '' }),
      postStripe(base, event, { signature: `t=${Math.floor(Date.now() / 1000)},v0=${v1},v1=` }),
      postStripe(base, event, { signature: `t=9999999999,v1=${v1}` }),
    ];
    const answers = await Promise.all(attacks);
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400, 400]);
    expect(changedTables(before, await tableFingerprint(db()))).toEqual(['stripe_events']);
    expect((await balanceRow(db(), userId)).bonus).toBe(0);
    await expectReconciled(db());
  });

  it('a genuine event delivered ten times at once, then again, grants its pack once', async () => {
    const userId = await newUser(db(), 'free');
    const payload = JSON.stringify(checkoutEvent({ userId, priceId: PACK }));
    const signature = signStripe(payload);
    const answers = await Promise.all(Array.from({ length: 10 }, () => postStripe(base, payload, { signature })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.body.duplicate !== true)).toHaveLength(1);
    expect((await postStripe(base, payload, { signature })).body.duplicate).toBe(true);
    expect((await balanceRow(db(), userId)).bonus).toBe(1000);
    await expectReconciled(db());
  });
});
