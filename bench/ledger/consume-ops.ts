import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import type { Db } from '../../server/db/client';
import { consumeCredits } from '../../server/ledger/consume';
import type { JsonPoster } from '../lib/http-client';
import type { Op } from '../lib/load';

const runPrefix = `bench-${randomBytes(4).toString('hex')}`;
let seq = 0;
/** A fresh idempotency key per operation, unique across cases, rounds and runs. */
const nextKey = () => `${runPrefix}-${seq++}`;

const REQUEST_HASH = 'f'.repeat(32);

/**
 * The raw-SQL floor: the statement consumeCredits issues in its common case — the conditional debit
 * and its ledger entry as data-modifying CTEs in one statement — issued directly with postgres.js
 * (prepared). An earlier floor ran the two statements in a transaction; consumeCredits no longer does.
 */
export const floorOp =
  (sql: Sql, userIds: string[]): Op =>
  async (client) => {
    const userId = userIds[client]!;
    const [row] = await sql`
      with debit as (
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
          and last_reset_at >= date_trunc('month', now(), 'UTC')
        returning current_balance + bonus_balance as balance_after, last_bonus_used, subscription_tier
      ), entry as (
        insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, balance_after,
          source, tier, cost_usd, enhancement_type, moodboard_id, idempotency_key, request_hash)
        select ${userId}, 'consumption', ${1}, ${-1}, last_bonus_used, balance_after,
          'user_credits', subscription_tier, '0.000000', 'upscale', ${null}, ${nextKey()}, ${REQUEST_HASH}
        from debit
        returning id
      )
      select entry.id::text as id, debit.balance_after from debit, entry`;
    if (!row) throw new Error(`floor: ${userId} could not be debited`);
  };

/** consumeCredits called in this process on a drizzle database over postgres.js. */
export const inProcessOp =
  (db: Db, userIds: string[]): Op =>
  async (client) => {
    const result = await consumeCredits(db, { userId: userIds[client]!, credits: 1, enhancementType: 'upscale', idempotencyKey: nextKey() });
    if (result.source !== 'user_credits') throw new Error(`in-process: unexpected source ${result.source}`);
  };

/** POST /trpc/credits.consume on the real server with an API key. */
export const httpOp =
  (poster: JsonPoster, userIds: string[]): Op =>
  async (client) => {
    const res = await poster.post('/trpc/credits.consume', {
      userId: userIds[client]!,
      credits: 1,
      enhancementType: 'upscale',
      idempotencyKey: nextKey(),
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  };
