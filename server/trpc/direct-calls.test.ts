import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { directCallsAnswered } from './direct-calls';

let env: TestEnv;
/** Each pair: the app answering product calls directly, and the same app leaving them to tRPC. */
let plain: [FastifyInstance, FastifyInstance];
let cors: [FastifyInstance, FastifyInstance];
let writer: string;
let reader: string;
const ORIGIN = 'https://app.example.com';

beforeAll(async () => {
  env = await createTestEnv();
  const withConfig = (extra: Partial<TestEnv['deps']['config']>) => buildApp({ ...env.deps, config: { ...env.deps.config, ...extra } });
  plain = [await withConfig({ TRPC_DIRECT_CALLS: true }), await withConfig({ TRPC_DIRECT_CALLS: false })];
  cors = [await withConfig({ TRPC_DIRECT_CALLS: true, CORS_ORIGINS: [ORIGIN] }), await withConfig({ TRPC_DIRECT_CALLS: false, CORS_ORIGINS: [ORIGIN] })];
  ({ secret: writer } = await createApiKey(env.deps.dbHandle.db, cliActor, { name: uniqueId('w'), scopes: ['credits:write', 'enhance'] }));
  ({ secret: reader } = await createApiKey(env.deps.dbHandle.db, cliActor, { name: uniqueId('r'), scopes: ['credits:read'] }));
});
afterAll(async () => {
  for (const app of [...plain, ...cors]) await app.close();
  await env.close();
});

type Call = { path: string; body: string; bearer?: string | null; headers?: Record<string, string> };

const send = (app: FastifyInstance, c: Call) =>
  app.inject({
    method: 'POST',
    url: `/trpc/${c.path}`,
    payload: c.body,
    headers: { 'content-type': 'application/json', ...(c.bearer === null ? {} : { authorization: `Bearer ${c.bearer ?? writer}` }), ...c.headers },
  });

/**
 * What a caller can observe: the status, every header, and the body's bytes — but the date and the
 * framing (tRPC streams its Response chunked; the direct path knows its length and says so).
 */
const observed = (res: LightMyRequestResponse) => {
  const { date: _date, 'content-length': length, 'transfer-encoding': chunked, ...headers } = res.headers;
  expect(length === undefined ? chunked : Number(length)).toEqual(length === undefined ? 'chunked' : Buffer.byteLength(res.body));
  return { status: res.statusCode, headers, body: res.body };
};

/** Sends `c` to both apps of a pair and expects the same answer; returns it, and checks who answered. */
async function same([direct, trpc]: [FastifyInstance, FastifyInstance], c: Call, answeredDirectly = true) {
  const before = directCallsAnswered(direct);
  const a = observed(await send(direct, c));
  const b = observed(await send(trpc, c));
  expect(a).toEqual(b);
  expect(directCallsAnswered(direct) - before).toBe(answeredDirectly ? 1 : 0);
  expect(directCallsAnswered(trpc)).toBe(0);
  return a;
}

const consume = (userId: string, extra: Record<string, unknown> = {}) => JSON.stringify({ userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key(), ...extra });

describe('[HTTP] product calls answered without the tRPC adapter answer byte for byte as tRPC does', () => {
  it('a charge and its replays: the same status, headers and JSON from either path', async () => {
    const userId = await newUser(env.deps.dbHandle.db, 'pro');
    const body = consume(userId);
    const first = observed(await send(plain[0], { path: 'credits.consume', body }));
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body).result.data).toMatchObject({ source: 'user_credits', creditsConsumed: 1, remainingBalance: 24 });
    const replay = await same(plain, { path: 'credits.consume', body });
    expect(replay).toEqual(first);
    expect(replay.headers).toMatchObject({ 'content-type': 'application/json', vary: 'trpc-accept, accept' });
    await expectLedgerClean(env.deps.dbHandle.db);
  });

  it('every refusal: validation, credentials, scope, credits, conflicts, unknown records, NUL characters', async () => {
    const db = env.deps.dbHandle.db;
    const pro = await newUser(db, 'pro');
    const free = await newUser(db, 'free');
    const reused = consume(pro);
    await send(plain[0], { path: 'credits.consume', body: reused });
    const cases: [Call, number][] = [
      [{ path: 'credits.consume', body: JSON.stringify({ userId: '', credits: -1 }) }, 400],
      [{ path: 'credits.consume', body: '[]' }, 400],
      [{ path: 'credits.consume', body: 'null' }, 400],
      [{ path: 'credits.consume', body: '"text"' }, 400],
      [{ path: 'credits.consume', body: consume(pro, { enhancementType: 'up\u0000scale' }) }, 400],
      [{ path: 'credits.consume', body: consume(pro), bearer: null }, 401],
      [{ path: 'credits.consume', body: consume(pro), bearer: 'cd_live_not-a-key' }, 401],
      [{ path: 'credits.consume', body: consume(pro), bearer: reader }, 403],
      [{ path: 'credits.consume', body: consume(free) }, 412],
      [{ path: 'credits.consume', body: consume('no-such-user') }, 404],
      [{ path: 'credits.consume', body: JSON.stringify({ ...JSON.parse(reused), credits: 2 }) }, 409],
      [{ path: 'credits.capture', body: JSON.stringify({ reservationId: '00000000-0000-4000-8000-000000000000', costUsd: '0.01' }) }, 404],
      [{ path: 'credits.release', body: JSON.stringify({ reservationId: 'not-a-uuid' }) }, 400],
      [{ path: 'enhance.run', body: JSON.stringify({ userId: pro, inputImageUrl: 'ftp://x', enhancementType: 'upscale', idempotencyKey: key() }) }, 400],
      [{ path: 'enhance.submit', body: JSON.stringify({ userId: pro }) }, 400],
    ];
    for (const [c, status] of cases) {
      const res = await same(plain, c);
      expect({ call: c.body, status: res.status }).toEqual({ call: c.body, status });
      expect(JSON.parse(res.body).error.data.httpStatus).toBe(status);
    }
    await expectLedgerClean(db);
  });

  it('with CORS on, the vary header names Origin too, and an allowed origin reads the answer', async () => {
    const userId = await newUser(env.deps.dbHandle.db, 'pro');
    const body = consume(userId);
    await send(cors[0], { path: 'credits.consume', body, headers: { origin: ORIGIN } });
    const res = await same(cors, { path: 'credits.consume', body, headers: { origin: ORIGIN } });
    expect(res.headers.vary).toContain('Origin');
    const refused = await same(cors, { path: 'credits.consume', body: '{}', headers: { origin: ORIGIN } });
    expect(refused.status).toBe(400);
  });

  it('what only tRPC handles still goes to tRPC: a batch, a query string, malformed JSON, another content type, a GET', async () => {
    const userId = await newUser(env.deps.dbHandle.db, 'pro');
    await same(plain, { path: 'credits.consume?batch=1', body: JSON.stringify({ 0: JSON.parse(consume(userId)) }) }, false);
    await same(plain, { path: 'credits.consume', body: '{"userId":' }, false);
    await same(plain, { path: 'credits.consume', body: consume(userId), headers: { 'trpc-accept': 'application/jsonl' } }, false);
    await same(plain, { path: 'credits.balance', body: JSON.stringify({ userId }) }, false);
    const [direct, trpc] = plain.map((app) => app.inject({ method: 'GET', url: '/trpc/credits.consume', headers: { authorization: `Bearer ${writer}` } }));
    expect(observed(await direct!)).toEqual(observed(await trpc!));
    await expectLedgerClean(env.deps.dbHandle.db);
  });
});
