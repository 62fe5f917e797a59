import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from 'postgres';
import type { JsonPoster } from '../lib/http-client';
import { nextKey } from '../lib/keys';
import type { Op } from '../lib/load';
import { consumeStatementSql } from '../../server/ledger/consume';
import { FREE_STRIPE_TRIES, freeStripeDrawSql } from '../../server/pools/draw';
import { callRecordStatementSql, claimStatementSql } from '../../server/providers/enhancement-statements';
import { openStatementSql } from '../../server/providers/open-enhancement';
import { settleServedStatementSql } from '../../server/providers/settle-served';
import { appStatement } from './app-statement';

const HASH = 'f'.repeat(32);

/**
 * credits.consume's raw-SQL floor: the one statement consumeCredits issues in its common case (the
 * conditional debit and its ledger entry as data-modifying CTEs, `consumeStatementSql`), on the
 * client's own user.
 */
const consumeSql = appStatement((v) => consumeStatementSql({ userId: v.userId, credits: 1, enhancementType: 'upscale', idempotencyKey: v.key }, HASH, 'allowance'), ['userId', 'key']);

export async function consumeStatement(sql: Sql, userId: string, prepare = true): Promise<{ id: string; balance_after: number }> {
  const [row] = await consumeSql(sql, { userId, key: nextKey('floor') }, prepare);
  if (!row) throw new Error(`consume floor: ${userId} could not be debited`);
  return row as unknown as { id: string; balance_after: number };
}

export const consumeFloorOp =
  (sql: Sql, userIds: string[]): Op =>
  async (client) => {
    await consumeStatement(sql, userIds[client]!);
  };

// The claim id and the draw's start are bound as text, as every per-call value of a floor statement is; the statement compares or casts them.
const openSql = appStatement(
  (v) =>
    openStatementSql(
      { userId: v.userId, credits: 1, enhancementType: 'upscale', idempotencyKey: v.key },
      60,
      HASH,
      'allowance',
      v.claimId as unknown as number,
      v.provider,
      v.start as unknown as number,
    ),
  ['userId', 'key', 'claimId', 'provider', 'start'],
);

const claimSql = appStatement(claimStatementSql, ['key', 'hash', 'userId']);
const settleSql = appStatement(
  (v) => settleServedStatementSql({ claimId: v.id, reservationId: v.reservationId, provider: v.provider, apiRequestId: v.requestId, costUsd: v.cost, result: v.result }),
  ['id', 'reservationId', 'provider', 'requestId', 'cost', 'result'],
);
// A served call's record: no status, error kind or error (bound null, as the app binds them).
const callRecordSql = appStatement(
  (v) => callRecordStatementSql({ ...v, httpStatus: null, errorKind: null, error: null }),
  ['provider', 'requestId', 'reservationId', 'outcome', 'latencyMs', 'providerRequestId'],
);
// The start is bound as text, as every per-call value of a floor statement is; the statement casts it (`::int`).
const drawSql = appStatement((v) => freeStripeDrawSql(v.provider, 1, v.start as unknown as number, v.reservationId), ['provider', 'start', 'reservationId']);

/**
 * enhance.run's raw-SQL floor: the SQL the gateway issues for one enhancement that a provider serves
 * from the client's own allowance (server/providers/gateway.ts and what it calls), in the same
 * order and the same transactions, the ledger's statements compiled from the app's own builders —
 * without HTTP, tRPC, Redis (circuit breaker, rate limit) or the provider's three HTTP calls:
 * claim; active providers; the opening (one statement: the hold, its attach to the claim and the
 * first provider's pool drawn from a free stripe, open-enhancement); the call record; then the
 * settlement (one statement: the claim's row lock, the capture, the stored result and its webhook
 * event). When the opening found no free stripe, the draw follows as drawFromPool's.
 * `callProvider`, when given, is the provider's calls (a diagnostic floor): made where the gateway
 * makes them, after the draw and before the call record, its answer the result's output URL.
 */
export async function enhanceStatements(sql: Sql, userId: string, provider: string, callProvider?: () => Promise<string>): Promise<Record<string, string>> {
  const key = nextKey('efloor');
  const [claim] = await claimSql(sql, { key, hash: HASH, userId });
  if (!claim) throw new Error('enhance floor: key reused');
  const candidates = await sql`
    select a.name, a.kind, a.base_url, a.api_key_encrypted, a.model, a.health_check_url, a.rate_limit_per_minute,
           a.timeout_ms, a.updated_at::text,
           (select sum(balance)::text from credit_pool_stripes s join credit_pools p on p.provider = s.provider
            where s.provider = a.name and p.status <> 'suspended') as pool_balance
    from api_providers a
    where a.is_active and a.archived_at is null
    order by a.priority, a.cost_per_request, a.name`;
  if (candidates[0]?.name !== provider) throw new Error(`enhance floor: first provider is ${String(candidates[0]?.name)}`);
  const [opened] = await openSql(sql, { userId, key: `enhance:${key}`, claimId: String(claim.id), provider, start: String(Math.floor(Math.random() * 4096)) });
  if (!opened) throw new Error(`enhance floor: ${userId} could not be held`);
  const reservationId = opened.id as string;
  const requestId = randomUUID();
  // As drawFromPool does when the opening could not draw: a free stripe from a fresh random start,
  // tried again after a short pause when every stripe it could take was locked by concurrent draws.
  let hit: Record<string, unknown> | undefined = opened.stripe === null ? undefined : opened;
  for (let attempt = 0; attempt < FREE_STRIPE_TRIES && !hit; attempt++) {
    if (attempt > 0) await sleep(attempt * 2);
    [hit] = await drawSql(sql, { provider, start: String(Math.floor(Math.random() * 4096)), reservationId });
  }
  if (!hit) throw new Error(`enhance floor: no free stripe in ${FREE_STRIPE_TRIES} tries`);
  const outputUrl = callProvider ? await callProvider() : 'http://127.0.0.1/files/bench-1.png';
  await callRecordSql(sql, { provider, requestId, reservationId, outcome: 'success', latencyMs: '3', providerRequestId: 'bench-1' });
  const result = { status: 'enhanced', provider, outputUrl, costUsd: hit.cost as string, creditSource: 'user_credits' };
  const [settled] = await settleSql(sql, { id: claim.id as string, reservationId, provider, requestId: 'bench-1', cost: hit.cost as string, result: JSON.stringify(result) });
  if (!settled) throw new Error('enhance floor: settlement refused');
  return result;
}

export const enhanceFloorOp =
  (sql: Sql, userIds: string[], provider: string): Op =>
  async (client) => {
    await enhanceStatements(sql, userIds[client]!, provider);
  };

type TrpcAnswer<T> = { result?: { data?: T } };

/** POST /trpc/credits.consume with an API key; the charge must come from `source`. */
export const consumeHttpOp =
  (poster: JsonPoster, userIds: string[], source: 'user_credits' | 'platform_pool'): Op =>
  async (client) => {
    const res = await poster.post('/trpc/credits.consume', { userId: userIds[client % userIds.length]!, credits: 1, enhancementType: 'upscale', idempotencyKey: nextKey('consume') });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    const data = (res.body as TrpcAnswer<{ source: string }>).result?.data;
    if (data?.source !== source) throw new Error(`consume charged ${String(data?.source)}, expected ${source}`);
  };

/** POST /trpc/enhance.run with an API key; it must be enhanced by `provider`, the hold from `source`. */
export const enhanceHttpOp =
  (poster: JsonPoster, userIds: string[], inputImageUrl: string, provider: string, source: 'user_credits' | 'platform_pool'): Op =>
  async (client) => {
    const res = await poster.post('/trpc/enhance.run', { userId: userIds[client % userIds.length]!, inputImageUrl, enhancementType: 'upscale', idempotencyKey: nextKey('enhance') });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    const data = (res.body as TrpcAnswer<{ status: string; provider?: string; creditSource?: string; degradationReason?: string }>).result?.data;
    if (data?.status !== 'enhanced' || data.provider !== provider || data.creditSource !== source) {
      throw new Error(`enhance.run answered ${JSON.stringify(data).slice(0, 300)}`);
    }
  };
