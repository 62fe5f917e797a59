import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { enhancementRequests } from '../providers/tables';
import { creditReservations } from '../ledger/tables';
import { balanceRow, countEntries, key, newUser, setAllowanceBalance } from '../test/ledger-helpers';
import { answerProblem, type Answer } from './lib/http-shape';
import { readAnswer } from './lib/live-server';
import { bearer, dataOf, reasonOf, twoApps, useAppsServer } from './lib/apps-server';
import { expectReconciled } from './lib/reconciled';

/**
 * [IDEMPOTENCY] An idempotency key belongs to the API key that first used it. Another product
 * app's key replaying it (credits.consume, credits.reserve, enhance.run, enhance.submit) is
 * IDEMPOTENCY_CONFLICT: it learns nothing of the first call's result (transaction id, balance,
 * output) and charges nothing. The same key with a different request is IDEMPOTENCY_CONFLICT too.
 * Once this worked for credits.consume and enhance.run: the foreign key got the first result.
 */

const app = useAppsServer();
const db = () => app.env.deps.dbHandle.db;
const call = async (procedure: string, input: unknown, secret: string) => readAnswer(await app.server.call(procedure, input, { headers: bearer(secret) }));

/** A refusal that is a well-formed 409 IDEMPOTENCY_CONFLICT, and shows none of `secrets` (a transaction id: quoted, as a result would carry it). */
function expectConflict(a: Answer, secrets: string[] = []) {
  expect(answerProblem(a)).toBeNull();
  expect([a.status, reasonOf(a)]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);
  expect('result' in (a.body as object)).toBe(false);
  for (const s of secrets) expect(a.text).not.toContain(s);
}

type Consumed = { transactionId: string; remainingBalance: number; source: string; creditsConsumed: number; costUsd: string };

describe('[IDEMPOTENCY] credits.consume', () => {
  it("another key replaying a consume's idempotency key is refused, learns nothing, and charges nothing", async () => {
    const [owner, foreign] = await twoApps(app.env);
    const userId = await newUser(db(), 'plus');
    const idempotencyKey = key();
    const input = { userId, credits: 1, enhancementType: 'upscale', idempotencyKey };
    const first = await call('credits.consume', input, owner.secret);
    expect(first.status).toBe(200);
    const consumed = dataOf<Consumed>(first);
    const balance = await balanceRow(db(), userId);

    const replay = await call('credits.consume', input, foreign.secret);
    expectConflict(replay, [`"${consumed.transactionId}"`, '"transactionId"', '"remainingBalance"']);
    expect(await balanceRow(db(), userId)).toEqual(balance);
    expect(await countEntries(db(), userId, 'consumption')).toBe(1);

    // The owner's own replay still answers the first result, and charges nothing more.
    const own = await call('credits.consume', input, owner.secret);
    expect(own.status).toBe(200);
    expect(dataOf<Consumed>(own)).toEqual(consumed);
    expect(await balanceRow(db(), userId)).toEqual(balance);
    expect(await countEntries(db(), userId, 'consumption')).toBe(1);
    await expectReconciled(db());
  });

  it('is refused as well when the first charge left the user nothing (the slow path), one charge only', async () => {
    const [owner, foreign] = await twoApps(app.env);
    const userId = await newUser(db(), 'free');
    await setAllowanceBalance(db(), userId, 1);
    const input = { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() };
    const first = await call('credits.consume', input, owner.secret);
    expect([first.status, dataOf<Consumed>(first).remainingBalance]).toEqual([200, 0]);

    expectConflict(await call('credits.consume', input, foreign.secret), [`"${dataOf<Consumed>(first).transactionId}"`, '"transactionId"']);
    expect(dataOf<Consumed>(await call('credits.consume', input, owner.secret))).toEqual(dataOf<Consumed>(first));
    expect(await countEntries(db(), userId, 'consumption')).toBe(1);
    expect((await balanceRow(db(), userId)).total).toBe(0);
    await expectReconciled(db());
  });

  it('the same key with a different request (credits, user) is refused, even from the key that used it', async () => {
    const [owner] = await twoApps(app.env);
    const [userId, otherUser] = [await newUser(db(), 'plus'), await newUser(db(), 'plus')];
    const idempotencyKey = key();
    const first = await call('credits.consume', { userId, credits: 1, enhancementType: 'upscale', idempotencyKey }, owner.secret);
    expect(first.status).toBe(200);
    const [balance, otherBalance] = [await balanceRow(db(), userId), await balanceRow(db(), otherUser)];

    expectConflict(await call('credits.consume', { userId, credits: 2, enhancementType: 'upscale', idempotencyKey }, owner.secret), [`"${dataOf<Consumed>(first).transactionId}"`, '"transactionId"']);
    expectConflict(await call('credits.consume', { userId: otherUser, credits: 1, enhancementType: 'upscale', idempotencyKey }, owner.secret), [
      `"${dataOf<Consumed>(first).transactionId}"`,
      '"transactionId"',
    ]);
    expect([await balanceRow(db(), userId), await balanceRow(db(), otherUser)]).toEqual([balance, otherBalance]);
    expect([await countEntries(db(), userId, 'consumption'), await countEntries(db(), otherUser, 'consumption')]).toEqual([1, 0]);
    await expectReconciled(db());
  });
});

describe('[IDEMPOTENCY] credits.reserve', () => {
  it("another key's replay and a different request are refused; one hold only", async () => {
    const [owner, foreign] = await twoApps(app.env);
    const userId = await newUser(db(), 'plus');
    const input = { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() };
    const first = await call('credits.reserve', input, owner.secret);
    const { reservationId } = dataOf<{ reservationId: string }>(first);
    expectConflict(await call('credits.reserve', input, foreign.secret), [reservationId]);
    expectConflict(await call('credits.reserve', { ...input, credits: 2 }, owner.secret), [reservationId]);
    expect(dataOf<{ reservationId: string }>(await call('credits.reserve', input, owner.secret)).reservationId).toBe(reservationId);
    expect(await db().select().from(creditReservations).where(eq(creditReservations.userId, userId))).toHaveLength(1);
    expect(await countEntries(db(), userId, 'hold')).toBe(1);
    await expectReconciled(db());
  });
});

describe('[IDEMPOTENCY] enhance.run and enhance.submit', () => {
  const enhanceInput = (userId: string, idempotencyKey = key()) => ({ userId, inputImageUrl: app.images.inputUrl, enhancementType: 'upscale', idempotencyKey });

  it("another key replaying an enhance.run's key is refused: no output, no second hold", async () => {
    const [owner, foreign] = await twoApps(app.env);
    const userId = await newUser(db(), 'pro');
    const input = enhanceInput(userId);
    const first = await call('enhance.run', input, owner.secret);
    expect(first.status).toBe(200);
    const result = dataOf<{ status: string; outputUrl: string }>(first);
    expect(result.status).toBe('enhanced');
    const balance = await balanceRow(db(), userId);

    expectConflict(await call('enhance.run', input, foreign.secret), [result.outputUrl]);
    expectConflict(await call('enhance.submit', input, foreign.secret));
    expectConflict(await call('enhance.run', { ...input, enhancementType: 'color' }, owner.secret), [result.outputUrl]);
    expect(dataOf<unknown>(await call('enhance.run', input, owner.secret))).toEqual(result);
    expect(await balanceRow(db(), userId)).toEqual(balance);
    expect(await countEntries(db(), userId, 'hold')).toBe(1);
    expect(await countEntries(db(), userId, 'capture')).toBe(1);
    await expectReconciled(db());
  });

  it("another key's enhance.run under a submitted enhancement's key is refused at once, and so is its enhance.submit", async () => {
    const [owner, foreign] = await twoApps(app.env);
    const userId = await newUser(db(), 'pro');
    const input = enhanceInput(userId);
    const submitted = await call('enhance.submit', input, owner.secret);
    expect(submitted.status).toBe(200);
    const { enhancementId } = dataOf<{ enhancementId: string }>(submitted);

    expectConflict(await call('enhance.submit', input, foreign.secret), [enhancementId]);
    expectConflict(await call('enhance.run', input, foreign.secret), [enhancementId]);
    const rows = await db().select().from(enhancementRequests).where(eq(enhancementRequests.userId, userId));
    expect(rows.map((r) => [r.mode, r.apiKeyId])).toEqual([['async', owner.apiKey.id]]);
    expect(await countEntries(db(), userId, 'hold')).toBe(1);
    await expectReconciled(db());
  });
});
