import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { creditSourceSchema } from '../../shared/credits';
import { tierSchema } from '../../shared/enums';
import { col } from '../db/rows';
import { platformCanPaySql } from '../pools/overflow-gate';
import { grantBeforeAllowanceSql } from './grant-order-sql';
import type { ChargeShape } from './charge-shapes';
import { periodStartSql } from './period';

/**
 * The two conditional UPDATEs of user_credits that charge a user in one statement, for the
 * one-statement consume and hold (as data-modifying CTEs) and the debit's first try. Each returns
 * `balance_after, bonus_used, tier`, or no row when it does not apply and the slow path must decide
 * (a first sight, a due reset, a refusal). Each condition is re-checked on the row it locks, so
 * concurrent charges cannot pass it together.
 */

/**
 * From the allowance alone, when it covers `credits` this month and no grant comes before it in the
 * spending order (ADR 022); anything else is the ordered draw's (grant-order-sql) under the row lock.
 */
export const allowanceDebitSql = (userId: string, credits: number) => sql`
  update user_credits uc set
    current_balance = uc.current_balance - ${credits},
    allowance_spent_this_period = uc.allowance_spent_this_period + ${credits},
    consumed_this_month = uc.consumed_this_month + ${credits},
    lifetime_consumed = uc.lifetime_consumed + ${credits},
    updated_at = now()
  where uc.user_id = ${userId}
    and uc.current_balance >= ${credits}
    and uc.last_reset_at >= ${periodStartSql()}
    and not ${grantBeforeAllowanceSql('uc')}
  returning uc.current_balance + uc.bonus_balance as balance_after, 0 as bonus_used, uc.subscription_tier as tier, 'user_credits'::text as source`;

/**
 * What an overflow moves on the user's row (the user pays nothing, so no balance): the usage and
 * overflow counters. Shared by the one-statement overflow below and the debit's slow path, which has
 * checked the cap under the row lock itself.
 */
export const overflowCountersSql = (credits: number) => sql`
    consumed_this_month = consumed_this_month + ${credits},
    lifetime_consumed = lifetime_consumed + ${credits},
    overflow_this_period = overflow_this_period + ${credits},
    updated_at = now()`;

/** The columns every charge returns: the balance after it, the part its grants paid, the user's tier. */
export const chargeRow = z.object({ balance_after: col.integer, bonus_used: col.integer, tier: tierSchema });

/** What `chargeCtes` leaves in `charged`: a charge row and where it came from. */
export const chargedRow = chargeRow.extend({ source: creditSourceSchema });

/**
 * An overflow to the platform (the user pays nothing): the allowance and bonus cannot cover it, the
 * tier has pool access, the month's overflow stays within the tier's cap and some pool can pay.
 */
export const overflowChargeSql = (userId: string, credits: number, unless: SQL = sql`false`) => sql`
  update user_credits uc set ${overflowCountersSql(credits)}
  from tier_allowances ta
  where uc.user_id = ${userId} and ta.tier = uc.subscription_tier and ta.pool_access
    and (ta.monthly_overflow_cap is null or uc.overflow_this_period + ${credits} <= ta.monthly_overflow_cap)
    and uc.current_balance + uc.bonus_balance < ${credits}
    and uc.last_reset_at >= ${periodStartSql()}
    and not ${unless}
    and ${platformCanPaySql(credits)}
  returning uc.current_balance + uc.bonus_balance as balance_after, 0 as bonus_used, uc.subscription_tier as tier, 'platform_pool'::text as source`;

/**
 * A charge as CTEs for a one-statement consume or hold to build on, ending in `charged`
 * (balance_after, bonus_used, tier, source), in the shape asked (charge-shapes): the allowance debit,
 * the platform's overflow, or either, so that an overflowing user's request is one round trip rather
 * than a missed debit and then a second statement. Either's two conditions exclude each other on any
 * row version (the allowance covers the credits, or allowance and bonus together do not), so at most
 * one UPDATE changes the row; the overflow's does not even run once the allowance's has paid. A row
 * changed under either is re-checked on its newest version and, failing, leaves `charged` empty for
 * the slow path.
 */
export const chargeCtes = (userId: string, credits: number, shape: ChargeShape) => {
  if (shape === 'allowance') return sql`charged as (${allowanceDebitSql(userId, credits)})`;
  if (shape === 'overflow') return sql`charged as (${overflowChargeSql(userId, credits)})`;
  return sql`from_allowance as (${allowanceDebitSql(userId, credits)}
    ), from_platform as (${overflowChargeSql(userId, credits, sql`exists (select 1 from from_allowance)`)}
    ), charged as (select * from from_allowance union all select * from from_platform)`;
};
