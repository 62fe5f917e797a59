import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditReservations } from '../ledger/tables';
import { startImageServer } from '../test/fake-providers';
import { apiKeyCaller, createTestEnv, type TestEnv } from '../test/harness';
import { balanceRow, key, newUser } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { answerProblem, type Answer } from './lib/http-shape';
import { readAnswer, startLiveServer, type LiveServer } from './lib/live-server';
import { expectReconciled } from './lib/reconciled';

/**
 * [HOLDS] A hold belongs to the API key that made it, through credits.reserve or enhance.run:
 * another product app's key, even with credits:write, cannot capture or release it (NOT_FOUND, as
 * if it did not exist), nor learn its id by replaying its idempotency key.
 */

let env: TestEnv;
let server: LiveServer;
let images: Awaited<ReturnType<typeof startImageServer>>;
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  images = await startImageServer();
  await configureProviders(env.deps, [{ name: 'local', kind: 'local', baseUrl: 'http://localhost', timeoutMs: 5_000 }]);
  server = await startLiveServer(env.deps);
});
afterAll(async () => {
  await server?.close();
  await images?.close();
  await env?.close();
});

const scopes = ['credits:read', 'credits:write', 'enhance'] as const;
const as = (secret: string) => ({ authorization: `Bearer ${secret}` });
const reasonOf = (a: Answer) => (a.body as { error?: { data?: { reason?: string } } }).error?.data?.reason ?? 'OK';
const dataOf = <T>(a: Answer) => (a.body as { result: { data: T } }).result.data;
const holdRow = async (id: string) => (await db().select().from(creditReservations).where(eq(creditReservations.id, id)))[0]!;

describe('[HOLDS] another key cannot settle a hold', () => {
  it("a foreign key's capture and release are NOT_FOUND and change nothing; the owner's capture works", async () => {
    const [owner, foreign] = [await apiKeyCaller(env.deps, [...scopes]), await apiKeyCaller(env.deps, [...scopes])];
    const userId = await newUser(db(), 'plus');
    const idempotencyKey = key();
    const reserved = await readAnswer(await server.call('credits.reserve', { userId, credits: 1, enhancementType: 'upscale', idempotencyKey }, { headers: as(owner.secret) }));
    const { reservationId } = dataOf<{ reservationId: string }>(reserved);
    expect((await holdRow(reservationId)).apiKeyId).toBe(owner.apiKey.id);
    const balance = await balanceRow(db(), userId);

    const capture = await readAnswer(await server.call('credits.capture', { reservationId, costUsd: '0.01' }, { headers: as(foreign.secret) }));
    const release = await readAnswer(await server.call('credits.release', { reservationId }, { headers: as(foreign.secret) }));
    const replay = await readAnswer(await server.call('credits.reserve', { userId, credits: 1, enhancementType: 'upscale', idempotencyKey }, { headers: as(foreign.secret) }));
    for (const a of [capture, release, replay]) expect(answerProblem(a)).toBeNull();
    expect([capture.status, reasonOf(capture)]).toEqual([404, 'UNKNOWN_RESERVATION']);
    expect([release.status, reasonOf(release)]).toEqual([404, 'UNKNOWN_RESERVATION']);
    expect(reasonOf(replay)).toBe('IDEMPOTENCY_CONFLICT');
    expect(replay.text).not.toContain(reservationId);
    expect((await holdRow(reservationId)).status).toBe('pending');
    expect(await balanceRow(db(), userId)).toEqual(balance);

    const own = await readAnswer(await server.call('credits.capture', { reservationId, costUsd: '0.01' }, { headers: as(owner.secret) }));
    expect(own.status).toBe(200);
    expect((await holdRow(reservationId)).status).toBe('captured');
    await expectReconciled(db());
  });

  it("enhance.run's hold records the calling key, which no other key can release", async () => {
    const [caller, foreign] = [await apiKeyCaller(env.deps, [...scopes]), await apiKeyCaller(env.deps, [...scopes])];
    const userId = await newUser(db(), 'pro');
    const run = await readAnswer(await server.call('enhance.run', { userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() }, { headers: as(caller.secret) }));
    expect(run.status).toBe(200);
    const [hold] = await db().select().from(creditReservations).where(eq(creditReservations.userId, userId));
    expect(hold!.apiKeyId).toBe(caller.apiKey.id);
    const release = await readAnswer(await server.call('credits.release', { reservationId: hold!.id }, { headers: as(foreign.secret) }));
    expect([release.status, reasonOf(release)]).toEqual([404, 'UNKNOWN_RESERVATION']);
    await expectReconciled(db());
  });
});
