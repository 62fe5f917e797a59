import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type { JsonPoster } from '../lib/http-client';
import { nextKey } from '../lib/keys';
import type { Op } from '../lib/load';

const HASH = 'f'.repeat(32);
const ZERO_USD = '0.000000';

/**
 * credits.consume's raw-SQL floor: the one statement consumeCredits issues in its common case (the
 * conditional debit and its ledger entry as data-modifying CTEs, server/ledger/consume.ts), with
 * postgres.js and prepared statements, on the client's own user.
 */
export async function consumeStatement(sql: Sql, userId: string): Promise<{ id: string; balance_after: number }> {
  const credits = 1;
  const [row] = await sql`
    with debit as (
      update user_credits set
        last_bonus_used = ${credits} - least(current_balance, ${credits}),
        bonus_balance = bonus_balance - (${credits} - least(current_balance, ${credits})),
        current_balance = current_balance - least(current_balance, ${credits}),
        allowance_spent_this_period = allowance_spent_this_period + least(current_balance, ${credits}),
        consumed_this_month = consumed_this_month + ${credits},
        lifetime_consumed = lifetime_consumed + ${credits},
        updated_at = now()
      where user_id = ${userId}
        and current_balance + bonus_balance >= ${credits}
        and last_reset_at >= date_trunc('month', now(), ${'UTC'})
      returning current_balance + bonus_balance as balance_after, last_bonus_used, subscription_tier
    ), entry as (
      insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, balance_after,
        source, tier, cost_usd, enhancement_type, moodboard_id, idempotency_key, request_hash)
      select ${userId}, 'consumption', ${credits}, ${-credits}, last_bonus_used, balance_after,
        'user_credits', subscription_tier, ${ZERO_USD}, ${'upscale'}, ${null}, ${nextKey('floor')}, ${HASH}
      from debit
      returning id
    )
    select entry.id::text as id, debit.balance_after from debit, entry`;
  if (!row) throw new Error(`consume floor: ${userId} could not be debited`);
  return row as unknown as { id: string; balance_after: number };
}

export const consumeFloorOp =
  (sql: Sql, userIds: string[]): Op =>
  async (client) => {
    await consumeStatement(sql, userIds[client]!);
  };

/**
 * enhance.run's raw-SQL floor: the SQL the gateway issues for one enhancement that a provider serves
 * from the client's own allowance (server/providers/gateway.ts and what it calls), in the same
 * order and the same transactions, with postgres.js and prepared statements — without HTTP, tRPC,
 * Redis (circuit breaker, rate limit) or the provider's three HTTP calls:
 * claim; active providers; hold (debit, reservation, hold entry); attach; pool draw (free stripe and
 * its pool entry, one statement); call record; capture (reservation, balance, capture entry, cost); complete.
 */
export async function enhanceStatements(sql: Sql, userId: string, provider: string): Promise<Record<string, string>> {
  const key = nextKey('efloor');
  const [claim] = await sql`
    insert into enhancement_requests (idempotency_key, request_hash, user_id) values (${key}, ${HASH}, ${userId})
    on conflict (idempotency_key) do nothing returning id`;
  if (!claim) throw new Error('enhance floor: key reused');
  const candidates = await sql`
    select a.name, a.kind, a.base_url, a.api_key_encrypted, a.model, a.health_check_url, a.rate_limit_per_minute,
           a.timeout_ms, a.updated_at::text,
           (select sum(balance)::text from credit_pool_stripes s join credit_pools p on p.provider = s.provider
            where s.provider = a.name and p.status <> 'suspended') as pool_balance
    from api_providers a
    where a.is_active
    order by a.priority, a.cost_per_request, a.name`;
  if (candidates[0]?.name !== provider) throw new Error(`enhance floor: first provider is ${String(candidates[0]?.name)}`);
  const hold = await sql.begin(async (tx) => {
    const [debit] = await tx`
      update user_credits set
        last_bonus_used = ${1} - least(current_balance, ${1}),
        bonus_balance = bonus_balance - (${1} - least(current_balance, ${1})),
        current_balance = current_balance - least(current_balance, ${1}),
        allowance_spent_this_period = allowance_spent_this_period + least(current_balance, ${1}),
        consumed_this_month = consumed_this_month + ${1},
        lifetime_consumed = lifetime_consumed + ${1},
        updated_at = now()
      where user_id = ${userId}
        and current_balance + bonus_balance >= ${1}
        and last_reset_at >= date_trunc('month', now(), ${'UTC'})
      returning current_balance + bonus_balance as balance_after, last_bonus_used as bonus_used, subscription_tier as tier`;
    if (!debit) throw new Error(`enhance floor: ${userId} could not be debited`);
    const [r] = await tx`
      insert into credit_reservations (user_id, credits, bonus_credits, source, tier, expires_at, idempotency_key, request_hash, enhancement_type, moodboard_id)
      values (${userId}, ${1}, ${debit.bonus_used as number}, 'user_credits', ${debit.tier as string}, now() + make_interval(secs => ${60}),
              ${`enhance:${key}`}, ${HASH}, ${'upscale'}, ${null})
      on conflict (idempotency_key) do nothing returning *`;
    await tx`
      insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, balance_after, source, tier,
        enhancement_type, moodboard_id, reservation_id, status)
      values (${userId}, 'hold', ${1}, ${-1}, ${debit.bonus_used as number}, ${debit.balance_after as number}, 'user_credits', ${debit.tier as string},
        ${'upscale'}, ${null}, ${r!.id as string}, 'pending')`;
    return r!;
  });
  const reservationId = hold.id as string;
  await sql`update enhancement_requests set reservation_id = ${reservationId} where id = ${claim.id as string}`;
  const requestId = randomUUID();
  // The free-stripe draw writes its pool entry itself (migration 0010); the gateway runs it in a transaction.
  const hit = await sql.begin(async (tx) => {
    const [h] = await tx`select * from creditdesk_draw_free_stripe(${provider}, ${1}, ${Math.floor(Math.random() * 4096)}, ${reservationId})`;
    if (!h) throw new Error('enhance floor: no free stripe');
    return h;
  });
  await sql`
    insert into provider_calls (provider, request_id, reservation_id, outcome, latency_ms, http_status, error_kind, error, provider_request_id)
    values (${provider}, ${requestId}, ${reservationId}, 'success', ${3}, ${null}, ${null}, ${null}, ${'bench-1'})`;
  await sql.begin(async (tx) => {
    const [r] = await tx`
      update credit_reservations set status = 'captured', settled_at = now(), provider = ${provider}, api_request_id = ${'bench-1'}
      where id = ${reservationId} and status = 'pending' and expires_at > now() returning *`;
    if (!r) throw new Error('enhance floor: capture refused');
    const [balance] = await tx`select current_balance + bonus_balance as total from user_credits where user_id = ${userId}`;
    const [done] = await tx`
      insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, balance_after, source, tier, cost_usd,
        provider, api_request_id, enhancement_type, moodboard_id, reservation_id)
      values (${userId}, 'capture', ${1}, ${0}, ${balance!.total as number}, 'user_credits', ${r.tier as string}, ${hit.cost as string},
        ${provider}, ${'bench-1'}, ${'upscale'}, ${null}, ${reservationId})
      returning *`;
    await tx`update credit_reservations set cost_usd = ${hit.cost as string}, capture_transaction_id = ${done!.id as string} where id = ${reservationId}`;
  });
  const result = { status: 'enhanced', provider, outputUrl: 'http://127.0.0.1/files/bench-1.png', costUsd: hit.cost as string, creditSource: 'user_credits' };
  await sql`
    update enhancement_requests set status = 'enhanced', result = ${sql.json(result)}, reservation_id = ${reservationId}, completed_at = now()
    where id = ${claim.id as string}`;
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
