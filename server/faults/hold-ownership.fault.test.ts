import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { creditReservations } from '../ledger/tables';
import { balanceRow, key, newUser } from '../test/ledger-helpers';
import { answerProblem } from './lib/http-shape';
import { readAnswer } from './lib/live-server';
import { bearer, dataOf, reasonOf, twoApps, useAppsServer } from './lib/apps-server';
import { expectReconciled } from './lib/reconciled';

/**
 * [HOLDS] A hold belongs to the API key that made it, through credits.reserve or enhance.run:
 * another product app's key, even with credits:write, cannot capture or release it (NOT_FOUND, as
 * if it did not exist), nor learn its id by replaying its idempotency key.
 */

const app = useAppsServer();
const db = () => app.env.deps.dbHandle.db;
const holdRow = async (id: string) => (await db().select().from(creditReservations).where(eq(creditReservations.id, id)))[0]!;

describe('[HOLDS] another key cannot settle a hold', () => {
  it("a foreign key's capture and release are NOT_FOUND and change nothing; the owner's capture works", async () => {
    const [owner, foreign] = await twoApps(app.env);
    const userId = await newUser(db(), 'plus');
    const idempotencyKey = key();
    const reserved = await readAnswer(await app.server.call('credits.reserve', { userId, credits: 1, enhancementType: 'upscale', idempotencyKey }, { headers: bearer(owner.secret) }));
    const { reservationId } = dataOf<{ reservationId: string }>(reserved);
    expect((await holdRow(reservationId)).apiKeyId).toBe(owner.apiKey.id);
    const balance = await balanceRow(db(), userId);

    const capture = await readAnswer(await app.server.call('credits.capture', { reservationId, costUsd: '0.01' }, { headers: bearer(foreign.secret) }));
    const release = await readAnswer(await app.server.call('credits.release', { reservationId }, { headers: bearer(foreign.secret) }));
    const replay = await readAnswer(await app.server.call('credits.reserve', { userId, credits: 1, enhancementType: 'upscale', idempotencyKey }, { headers: bearer(foreign.secret) }));
    for (const a of [capture, release, replay]) expect(answerProblem(a)).toBeNull();
    expect([capture.status, reasonOf(capture)]).toEqual([404, 'UNKNOWN_RESERVATION']);
    expect([release.status, reasonOf(release)]).toEqual([404, 'UNKNOWN_RESERVATION']);
    expect(reasonOf(replay)).toBe('IDEMPOTENCY_CONFLICT');
    expect(replay.text).not.toContain(reservationId);
    expect((await holdRow(reservationId)).status).toBe('pending');
    expect(await balanceRow(db(), userId)).toEqual(balance);

    const own = await readAnswer(await app.server.call('credits.capture', { reservationId, costUsd: '0.01' }, { headers: bearer(owner.secret) }));
    expect(own.status).toBe(200);
    expect((await holdRow(reservationId)).status).toBe('captured');
    await expectReconciled(db());
  });

  it("enhance.run's hold records the calling key, which no other key can release", async () => {
    const [caller, foreign] = await twoApps(app.env);
    const userId = await newUser(db(), 'pro');
    const run = await readAnswer(
      await app.server.call('enhance.run', { userId, inputImageUrl: app.images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() }, { headers: bearer(caller.secret) }),
    );
    expect(run.status).toBe(200);
    const [hold] = await db().select().from(creditReservations).where(eq(creditReservations.userId, userId));
    expect(hold!.apiKeyId).toBe(caller.apiKey.id);
    const release = await readAnswer(await app.server.call('credits.release', { reservationId: hold!.id }, { headers: bearer(foreign.secret) }));
    expect([release.status, reasonOf(release)]).toEqual([404, 'UNKNOWN_RESERVATION']);
    await expectReconciled(db());
  });
});
