import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../auth/audit';
import { countRow, queryOne } from '../db/rows';
import { expireReservations } from '../ledger/release-reservation';
import { reserveCredits } from '../ledger/reserve-credits';
import { creditReservations, creditTransactions } from '../ledger/tables';
import { drawFromPool } from '../pools/draw';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { balanceRow, expectLedgerClean, key, newUser, reasonOf } from '../test/ledger-helpers';
import { expectPoolsClean } from '../test/pool-helpers';
import { configureProviders } from '../test/provider-helpers';
import { startWebhookReceiver, type WebhookReceiver } from '../test/webhook-receiver';
import { createEndpoint } from '../webhooks/endpoints';
import { webhookEndpoints } from '../webhooks/tables';
import { attachReservation, claimEnhancement } from './enhancement-claims';
import { finaliseEnhancement, type Settlement } from './finalise';
import { settleServedInOneStatement } from './settle-served';
import { enhancementRequests } from './tables';

let env: TestEnv;
let receiver: WebhookReceiver;
let provider: string;

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_OUTBOUND: 'true' });
  receiver = await startWebhookReceiver();
  provider = uniqueId('fal').toLowerCase();
  // Never called: the provider's pool is what these tests draw, as the gateway does before a call.
  await configureProviders(env.deps, [{ name: provider, kind: 'fal', baseUrl: 'http://127.0.0.1:9', poolCredits: 100, costPerCredit: '0.04' }]);
  await createEndpoint(db(), env.deps, cliActor, { url: receiver.url, events: ['enhancement.completed'] });
});
afterEach(async () => {
  await expectLedgerClean(db());
  await expectPoolsClean(db());
});
afterAll(async () => {
  await db().delete(webhookEndpoints);
  await receiver.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const deps = () => ({ db: db(), media: env.deps.gateway.media, log: env.deps.log });

/** What the gateway has done by the time a provider served: the claim, the hold attached to it, the pool drawn. */
async function servedSoFar() {
  const userId = await newUser(db(), 'plus');
  const idempotencyKey = key();
  const claim = await claimEnhancement(db(), idempotencyKey, 'f'.repeat(32), userId, { waitMs: 0, staleAfterMs: 60_000 });
  if (claim.kind !== 'claimed') throw new Error('expected a fresh claim');
  const hold = await reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: `enhance:${idempotencyKey}:${claim.id}`, ttlSeconds: 60 });
  await attachReservation(db(), claim.id, hold.reservationId);
  const drawn = await drawFromPool(db(), provider, 1, { reservationId: hold.reservationId });
  if (!drawn) throw new Error('the pool could not pay');
  const outcome: Settlement = { kind: 'served', provider, outputUrl: 'http://127.0.0.1/out.png', providerRequestId: `req-${claim.id}`, requestId: `r-${claim.id}`, costUsd: drawn.costUsd };
  const input = { userId, inputImageUrl: 'http://127.0.0.1/in.png', enhancementType: 'upscale' as const, idempotencyKey };
  return { userId, claimId: claim.id, hold, costUsd: drawn.costUsd, finalise: () => finaliseEnhancement(deps(), { claimId: claim.id, input, image: null, hold }, outcome) };
}

const claimRow = async (id: number) => (await db().select().from(enhancementRequests).where(eq(enhancementRequests.id, id)))[0]!;
const holdRow = async (id: string) => (await db().select().from(creditReservations).where(eq(creditReservations.id, id)))[0]!;
const captures = async (reservationId: string) =>
  (
    await db()
      .select()
      .from(creditTransactions)
      .where(and(eq(creditTransactions.reservationId, reservationId), eq(creditTransactions.transactionType, 'capture')))
  ).length;
const completedEvents = async (claimId: number) =>
  (await queryOne(
    db(),
    countRow,
    sql`select count(*)::int as n from webhook_events e join enhancement_requests r on e.payload->'data'->>'enhancementId' = r.enhancement_id::text
        where r.id = ${claimId} and e.type = 'enhancement.completed'`,
  ))!.n;

describe('[LEDGER] a served enhancement is settled in one statement', () => {
  it('the hold is captured at the cost drawn, the result stored and its enhancement.completed event written', async () => {
    const s = await servedSoFar();
    const result = { status: 'enhanced' as const, provider, outputUrl: 'http://127.0.0.1/out.png', costUsd: s.costUsd, creditSource: 'user_credits' as const };
    // The statement alone, not the transaction behind it, did all of it.
    expect(await settleServedInOneStatement(db(), { claimId: s.claimId, reservationId: s.hold.reservationId, provider, apiRequestId: `req-${s.claimId}`, result })).toEqual({
      source: 'user_credits',
      tier: 'plus',
      credits_used: 1,
    });
    const done = { result };
    const hold = await holdRow(s.hold.reservationId);
    expect(hold).toMatchObject({ status: 'captured', provider, apiRequestId: `req-${s.claimId}`, costUsd: '0.040000' });
    expect(await captures(s.hold.reservationId)).toBe(1);
    const [entry] = await db().select().from(creditTransactions).where(eq(creditTransactions.id, hold.captureTransactionId!));
    expect(entry).toMatchObject({ transactionType: 'capture', creditsUsed: 1, balanceAfter: 9, provider, costUsd: '0.040000' });
    expect(await claimRow(s.claimId)).toMatchObject({ status: 'enhanced', reservationId: s.hold.reservationId, result: done.result, leaseUntil: null });
    expect(await completedEvents(s.claimId)).toBe(1);
    expect(await balanceRow(db(), s.userId)).toMatchObject({ total: 9, consumed: 1 });
  });

  it('a second settlement of a settled enhancement changes nothing and answers the first result', async () => {
    const s = await servedSoFar();
    const first = await s.finalise();
    const second = await s.finalise();
    expect(second).toEqual({ settledNow: false, result: first.result });
    expect(await captures(s.hold.reservationId)).toBe(1);
    expect(await completedEvents(s.claimId)).toBe(1);
    expect(await balanceRow(db(), s.userId)).toMatchObject({ total: 9, consumed: 1 });
  });

  it('two settlers racing (a callback and a poll) settle it once: one capture, one event, the same result for both', async () => {
    const s = await servedSoFar();
    const both = await Promise.all([s.finalise(), s.finalise()]);
    expect(both.map((b) => b.settledNow).sort()).toEqual([false, true]);
    expect(both[0].result).toEqual(both[1].result);
    expect(await captures(s.hold.reservationId)).toBe(1);
    expect(await completedEvents(s.claimId)).toBe(1);
  });

  it('a hold that expired before the settlement: the statement changes nothing, and the settlement is refused as before', async () => {
    const s = await servedSoFar();
    await db().execute(sql`update credit_reservations set expires_at = now() - interval '1 second' where id = ${s.hold.reservationId}`);
    const row = await settleServedInOneStatement(db(), {
      claimId: s.claimId,
      reservationId: s.hold.reservationId,
      provider,
      apiRequestId: 'req-late',
      result: { status: 'enhanced', provider, outputUrl: 'http://127.0.0.1/out.png', costUsd: '0.040000', creditSource: 'user_credits' },
    });
    expect(row).toBeNull();
    expect(await holdRow(s.hold.reservationId)).toMatchObject({ status: 'pending', captureTransactionId: null });
    expect(await claimRow(s.claimId)).toMatchObject({ status: 'processing', result: null });
    expect(await completedEvents(s.claimId)).toBe(0);
    expect(await reasonOf(s.finalise())).toBe('RESERVATION_EXPIRED');
    expect(await captures(s.hold.reservationId)).toBe(0);
    // The expiry job returns the credit (and the pool's draw), as it would have without us.
    expect(await expireReservations(db())).toBeGreaterThanOrEqual(1);
    expect(await balanceRow(db(), s.userId)).toMatchObject({ total: 10 });
  });
});
