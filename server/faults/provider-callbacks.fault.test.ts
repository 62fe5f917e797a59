import { randomBytes, randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../app';
import { col, countRow, queryOne } from '../db/rows';
import { poolTotal } from '../pools/draw';
import type { StoredAttempt } from '../providers/async-worker';
import { enhancementRequests } from '../providers/tables';
import { apiKeyCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { balanceRow, key, newUser } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { waitFor } from '../test/wait';
import { expectReconciled } from './lib/reconciled';

let env: TestEnv;
let app: FastifyInstance;
let origin: string;
let images: Awaited<ReturnType<typeof startImageServer>>;
let fake: Awaited<ReturnType<typeof startFakeProvider>>;

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  app = await buildApp(env.deps);
  origin = await app.listen({ port: 0, host: '127.0.0.1' });
  env.deps.gateway.callbackBase = `${origin}/callbacks`;
  images = await startImageServer();
  fake = await startFakeProvider('nanobanana');
  await env.deps.jobs.start({ work: true });
});
afterAll(async () => {
  await fake.close();
  await images.close();
  await app.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const rowOf = async (enhancementId: string) => (await db().select().from(enhancementRequests).where(eq(enhancementRequests.enhancementId, enhancementId)))[0]!;
/** What a forged callback must not move: the enhancement, its hold, the user's ledger, the pool. */
async function state(enhancementId: string, userId: string, provider: string) {
  const row = await rowOf(enhancementId);
  const ledger = await queryOne(db(), countRow, sql`select count(*)::int as n from credit_transactions where user_id = ${userId}`);
  const hold = await queryOne(db(), z.object({ status: col.text }), sql`select status from credit_reservations where id = ${row.reservationId}`);
  return { status: row.status, result: row.result, task: row.providerTask, hold: hold!.status, entries: ledger!.n, pool: await poolTotal(db(), provider), balance: await balanceRow(db(), userId) };
}
const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.status;
};

describe('[CALLBACKS] a forged, misdirected or late provider callback changes nothing', () => {
  it('wrong or missing token, another enhancement, another provider, another task, garbage, a replay: refused or ignored; the genuine one settles once', async () => {
    const name = uniqueId('nb').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'nanobanana', baseUrl: fake.url, timeoutMs: 60_000 }]);
    fake.state.pollsBeforeDone = 1_000_000;
    const userId = await newUser(db(), 'plus');
    const { caller } = await apiKeyCaller(env.deps, ['enhance']);
    const { enhancementId } = await caller.enhance.submit({ userId, inputImageUrl: images.inputUrl, enhancementType: 'color', idempotencyKey: key() });
    const attempt = await waitFor(
      async () => {
        const a = (await rowOf(enhancementId)).providerTask as StoredAttempt | null;
        return a?.task ? a : null;
      },
      { what: 'the task to be recorded' },
    );
    const taskId = attempt.task!.taskId;
    const genuine = new URL(fake.callbackUrls.get(taskId)!);
    const token = genuine.searchParams.get('token')!;
    const success = { code: 200, msg: 'Image generated successfully.', data: { taskId, info: { resultImageUrl: `${fake.url}/files/output.png` } } };
    const at = (path: string, t: string | null = token) => `${origin}${path}${t === null ? '' : `?token=${encodeURIComponent(t)}`}`;
    const before = await state(enhancementId, userId, name);

    const forged: [string, string, unknown, number][] = [
      ['a wrong token of the same shape', at(genuine.pathname, randomBytes(32).toString('base64url')), success, 401],
      ['no token', at(genuine.pathname, null), success, 401],
      ['the token one character off', at(genuine.pathname, token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')), success, 401],
      ['an unknown enhancement', at(`/callbacks/${name}/${randomUUID()}`), success, 404],
      ['an id that is not a UUID', at(`/callbacks/${name}/1%20or%201=1`), success, 404],
      ['another provider in the path', at(`/callbacks/other-provider/${enhancementId}`), success, 409],
      ['a body about another task', genuine.toString(), { ...success, data: { ...success.data, taskId: 'nanobanana-999' } }, 400],
      ['an output URL that is not http(s)', genuine.toString(), { ...success, data: { taskId, info: { resultImageUrl: 'javascript:alert(1)' } } }, 400],
      ['a body of the wrong shape', genuine.toString(), { hello: 'world' }, 400],
    ];
    for (const [what, url, body, status] of forged) {
      expect(await post(url, body), what).toBe(status);
      expect(await state(enhancementId, userId, name), what).toEqual(before);
    }

    expect(await post(genuine.toString(), success)).toBe(200);
    const after = await state(enhancementId, userId, name);
    expect(after).toMatchObject({ status: 'enhanced', hold: 'captured', pool: before.pool, balance: { total: 9, consumed: 1 } });
    // Late and replayed callbacks, with a different result even: the settled enhancement stays as it was.
    expect(await post(genuine.toString(), { ...success, data: { taskId, info: { resultImageUrl: 'https://evil.example/x.png' } } })).toBe(200);
    expect(await post(genuine.toString(), { code: 501, msg: 'failed', data: { taskId, info: null } })).toBe(200);
    expect(await state(enhancementId, userId, name)).toEqual(after);
    await waitFor(
      async () =>
        !(
          await db()
            .select()
            .from(enhancementRequests)
            .where(sql`${enhancementRequests.status} in ('queued','running')`)
        ).length,
      { what: 'the worker to stop' },
    );
    await expectReconciled(db());
  });

  it("enhance.run's polled NanoBanana URL acknowledges and settles nothing", async () => {
    const res = await fetch(`${origin}/callbacks/nanobanana`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":200,"data":{"taskId":"x"}}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, detail: 'polled; nothing to settle' });
  });
});
