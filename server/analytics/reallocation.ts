import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { queryOne } from '../db/rows';
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
export async function optimizeAllocation(db: DbOrTx) {
  return db.transaction(async (tx) => {
    const [s] = await tx.select().from(platformSettings).where(eq(platformSettings.id, 1));
    const settings = s!;
    const suggested = await queryOne<{ n: number }>(
      tx,
      sql`
      with heavy as (
        select t.user_id, count(*) as n
        from credit_transactions t
        where t.transaction_type in ('consumption', 'capture') and t.created_at > now() - make_interval(days => ${settings.upgradeWindowDays})
        group by t.user_id
        having count(*) > ${settings.upgradeMinEnhancements} and max(t.created_at) > now() - make_interval(days => ${settings.upgradeActiveDays})
      ), inserted as (
        insert into user_notifications (user_id, type, title, message, metadata)
        select h.user_id, 'upgrade_suggestion', 'You are a power user',
               'You made ' || h.n || ' enhancements in the last ${sql.raw(String(settings.upgradeWindowDays))} days. Upgrading gives you more monthly credits.',
               jsonb_build_object('enhancements', h.n, 'tier', uc.subscription_tier)
        from heavy h join user_credits uc on uc.user_id = h.user_id
        where uc.subscription_tier in ('free', 'plus')
          and not exists (select 1 from user_notifications n where n.user_id = h.user_id and n.type = 'upgrade_suggestion'
                          and n.created_at > now() - make_interval(days => ${settings.upgradeCooldownDays}))
        returning 1
      )
      select count(*)::int as n from inserted`,
    );

    const pool = await queryOne<{ provider: string }>(
      tx,
      settings.reallocationPool
        ? sql`select provider from credit_pools where provider = ${settings.reallocationPool} and status <> 'suspended'`
        : sql`select p.provider from credit_pools p left join api_providers a on a.name = p.provider
              where p.status <> 'suspended' order by a.priority nulls last, p.provider limit 1`,
    );
    let moved = { users: 0, credits: 0 };
    if (pool) {
      const row = await queryOne<{ users: number; credits: string }>(
        tx,
        sql`
        with idle as (
          select user_id, current_balance from user_credits
          where consumed_this_month = 0 and current_balance > 0
            and last_reset_at >= ${periodStartSql()}
            and last_reset_at < now() - make_interval(days => ${settings.reallocationIdleDays})
          for update
        ), upd as (
          update user_credits u set current_balance = 0,
            allowance_spent_this_period = u.allowance_spent_this_period + idle.current_balance, updated_at = now()
          from idle where u.user_id = idle.user_id
          returning u.user_id, idle.current_balance as moved, u.current_balance + u.bonus_balance as balance_after
        ), entries as (
          insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, balance_after, source, reason)
          select user_id, 'reallocation', moved, -moved, balance_after, 'user_credits', ${`moved to the ${pool.provider} pool`} from upd
        )
        select count(*)::int as users, coalesce(sum(moved), 0)::text as credits from upd`,
      );
      moved = { users: Number(row!.users), credits: Number(row!.credits) };
      if (moved.credits > 0) {
        await creditPool(tx, pool.provider, moved.credits, { type: 'reallocation', reason: `unused allowance of ${moved.users} users`, actor: 'smart-reallocation' });
      }
    }
    return {
      upgradeSuggestions: Number(suggested!.n),
      usersReallocated: moved.users,
      creditsReallocated: moved.credits,
      pool: pool?.provider ?? null,
    };
  });
}
