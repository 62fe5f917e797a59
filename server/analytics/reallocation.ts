import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { col, countRow, queryOne } from '../db/rows';
import { z } from 'zod';
import { periodStartSql } from '../ledger/period';
import { creditPool } from '../pools/credit-pool';
import { platformSettings } from '../pools/tables';

/**
 * The seed's SmartCreditAllocator, set-based:
 * - heavy users (more than N enhancements in the window, active in the last days) of free and plus
 *   get one upgrade suggestion, not again within the cool-down;
 * - this month's allowance of users who have used none of it although their reset is over the idle
 *   days old moves to the platform pool — a `reallocation` entry per user and the pool's entries,
 *   summing to zero. A second run in the month finds those balances at zero and moves nothing.
 */
/** Idle users moved per transaction: a month's worth of idle users never becomes one long transaction. */
const IDLE_BATCH = 1_000;

export async function optimizeAllocation(db: DbOrTx, opts: { batchSize?: number } = {}) {
  const batchSize = opts.batchSize ?? IDLE_BATCH;
  const [s] = await db.select().from(platformSettings).where(eq(platformSettings.id, 1));
  const settings = s!;
  const suggested = await queryOne(
    db,
    countRow,
    sql`
    with heavy as (
      select t.user_id, count(*) as n
      from credit_transactions t
      where t.transaction_type in ('consumption', 'capture') and t.created_at > now() - make_interval(days => ${settings.upgradeWindowDays})
      group by t.user_id
      having count(*) > ${settings.upgradeMinEnhancements} and max(t.created_at) > now() - make_interval(days => ${settings.upgradeActiveDays})
    ), inserted as (
      insert into user_notifications (user_id, type, title, message, action, metadata)
      select h.user_id, 'upgrade_suggestion', 'You are a power user',
             'You made ' || h.n || ' enhancements in the last ${sql.raw(String(settings.upgradeWindowDays))} days. Upgrading gives you more monthly credits.',
             -- The next tier up is what the product offers (free → plus, plus → pro).
             jsonb_build_object('kind', 'upgrade', 'tier', up.next_tier, 'label', 'Upgrade to ' || up.next_tier),
             jsonb_build_object('enhancements', h.n, 'tier', uc.subscription_tier)
      from heavy h join user_credits uc on uc.user_id = h.user_id
      join (values ('free', 'plus'), ('plus', 'pro')) as up (tier, next_tier) on up.tier = uc.subscription_tier
      where uc.subscription_tier in ('free', 'plus')
        and not exists (select 1 from user_notifications n where n.user_id = h.user_id and n.type = 'upgrade_suggestion'
                        and n.created_at > now() - make_interval(days => ${settings.upgradeCooldownDays}))
      returning 1
    )
    select count(*)::int as n from inserted`,
  );

  const pool = await queryOne(
    db,
    z.object({ provider: col.text }),
    settings.reallocationPool
      ? sql`select provider from credit_pools where provider = ${settings.reallocationPool} and status <> 'suspended'`
      : sql`select p.provider from credit_pools p left join api_providers a on a.name = p.provider
            where p.status <> 'suspended' order by a.priority nulls last, p.provider limit 1`,
  );
  const moved = { users: 0, credits: 0 };
  // In batches, each its own transaction with both sides (the users' entries and the pool's): a
  // moved balance is zero, so a batch never picks a user twice and a rerun moves nothing again.
  for (let more = !!pool; more;) {
    const batch = await db.transaction(async (tx) => {
      const row = await queryOne(
        tx,
        z.object({ users: col.integer, credits: col.integer }),
        sql`
        with idle as (
          select user_id, current_balance from user_credits
          where consumed_this_month = 0 and current_balance > 0
            and last_reset_at >= ${periodStartSql()}
            and last_reset_at < now() - make_interval(days => ${settings.reallocationIdleDays})
          order by user_id limit ${batchSize}
          for update skip locked
        ), upd as (
          update user_credits u set current_balance = 0,
            allowance_spent_this_period = u.allowance_spent_this_period + idle.current_balance, updated_at = now()
          from idle where u.user_id = idle.user_id
          returning u.user_id, idle.current_balance as moved, u.current_balance + u.bonus_balance as balance_after
        ), entries as (
          insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, balance_after, source, reason)
          select user_id, 'reallocation', moved, -moved, balance_after, 'user_credits', ${`moved to the ${pool!.provider} pool`} from upd
        )
        select count(*)::int as users, coalesce(sum(moved), 0)::text as credits from upd`,
      );
      const users = row!.users;
      const credits = row!.credits;
      if (credits > 0) {
        await creditPool(tx, pool!.provider, credits, { type: 'reallocation', reason: `unused allowance of ${users} users`, actor: 'smart-reallocation' });
      }
      return { users, credits };
    });
    moved.users += batch.users;
    moved.credits += batch.credits;
    more = batch.users === batchSize;
  }
  return {
    upgradeSuggestions: suggested!.n,
    usersReallocated: moved.users,
    creditsReallocated: moved.credits,
    pool: pool?.provider ?? null,
  };
}
