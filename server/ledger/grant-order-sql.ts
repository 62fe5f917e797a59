import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { col } from '../db/rows';
import { LEDGER_TIME_ZONE } from './period';

/**
 * The order in which a charge spends a user's credits (ADR 022): the month's allowance and each
 * grant by priority (lower first), then expiry (none last), then oldest first. The allowance takes
 * part as a grant of priority ALLOWANCE_PRIORITY that expires at the end of its month and dates
 * from the user's last reset; it lives on the user_credits row (`current_balance`), every other
 * grant is a credit_grants row.
 */
export const ALLOWANCE_PRIORITY = 50;
/** A paid credit pack's default priority: bought credits are spent after the allowance and promotions. */
export const PAID_PRIORITY = 100;

/** What a grant gives back or takes, per grant: `[[grantId, delta], …]`. */
export type GrantDraws = [number, number][];

const drawPair = z.tuple([col.integer, col.integer]);
/** A `grant_draws` column read from raw SQL (json text, or parsed by the driver); null is no grant. */
export const grantDrawsCol = z
  .union([
    z.string().transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'grant_draws is not JSON' });
        return z.NEVER;
      }
    }),
    z.array(z.unknown()),
    z.null(),
  ])
  .pipe(z.array(drawPair).nullable())
  .transform((draws): GrantDraws => draws ?? []);

/** The end of the allowance month that began at `lastResetAt` (an SQL expression). */
export const allowanceExpirySql = (lastResetAt: SQL) => sql`((date_trunc('month', ${lastResetAt} at time zone ${LEDGER_TIME_ZONE}) + interval '1 month') at time zone ${LEDGER_TIME_ZONE})`;

/** A grant that a charge may spend now: something left, not frozen, not past its expiry. */
export const spendableGrantSql = (g: string) => sql.raw(`${g}.remaining > 0 and ${g}.expired_at is null and ${g}.frozen_at is null and (${g}.expires_at is null or ${g}.expires_at > now())`);

/**
 * True when some grant of the user on row `uc` comes before the allowance in the order: the
 * allowance-only one-statement charge must then leave it to the ordered draw. `bonus_balance` is
 * the sum of the user's unexpired grants (the reconciliation proves it), so at 0 no grant can come
 * first and the common charge skips the probe.
 */
export const grantBeforeAllowanceSql = (uc: string) => sql`(${sql.raw(uc)}.bonus_balance > 0 and exists (
    select 1 from credit_grants g
    where g.user_id = ${sql.raw(uc)}.user_id and ${spendableGrantSql('g')}
      and (g.priority, coalesce(g.expires_at, 'infinity'::timestamptz), g.created_at)
          < (${ALLOWANCE_PRIORITY}, ${allowanceExpirySql(sql.raw(`${uc}.last_reset_at`))}, ${sql.raw(uc)}.last_reset_at)))`;

/**
 * Spends `credits` of the user in the order, in one statement, on a user_credits row the caller's
 * transaction has locked (every change of a grant locks its user first, so this statement's snapshot
 * holds the grants as they are). Takes each pot in turn until the charge is covered, lowers each
 * grant's `remaining` and the user's two sums, and counts the usage (a charge; an adjustment does
 * not). No row: the spendable credits
 * do not cover it. Returns `balance_after, bonus_used, tier, grant_draws` (negative deltas).
 */
export const drawInOrderSql = (userId: string, credits: number, opts: { countsAsUsage: boolean } = { countsAsUsage: true }) => sql`
  with pots as (
    select 0::bigint as grant_id, ${ALLOWANCE_PRIORITY}::int as priority, ${allowanceExpirySql(sql`uc.last_reset_at`)} as expires_at,
           uc.last_reset_at as created_at, uc.current_balance as remaining
    from user_credits uc where uc.user_id = ${userId} and uc.current_balance > 0
    union all
    select g.id, g.priority, g.expires_at, g.created_at, g.remaining
    from credit_grants g where g.user_id = ${userId} and ${spendableGrantSql('g')}
  ), ordered as (
    select grant_id, remaining,
           sum(remaining) over (order by priority, expires_at nulls last, created_at, grant_id rows unbounded preceding) as upto
    from pots
  ), take as (
    select grant_id, least(remaining, ${credits}::int - (upto - remaining))::int as credits
    from ordered where upto - remaining < ${credits}::int
  ), parts as (
    select coalesce(sum(credits) filter (where grant_id = 0), 0)::int as allowance,
           coalesce(sum(credits) filter (where grant_id <> 0), 0)::int as bonus
    from take
  ), covered as (
    select * from parts where allowance + bonus = ${credits}::int
  ), grants_drawn as (
    update credit_grants g set remaining = g.remaining - t.credits
    from take t, covered where t.grant_id <> 0 and g.id = t.grant_id
    returning g.id, t.credits
  ), charged as (
    update user_credits u set
      current_balance = u.current_balance - c.allowance,
      bonus_balance = u.bonus_balance - c.bonus,
      allowance_spent_this_period = u.allowance_spent_this_period + c.allowance,
      consumed_this_month = u.consumed_this_month + ${opts.countsAsUsage ? credits : 0}::int,
      lifetime_consumed = u.lifetime_consumed + ${opts.countsAsUsage ? credits : 0}::int,
      updated_at = now()
    from covered c where u.user_id = ${userId}
    returning u.current_balance + u.bonus_balance as balance_after, c.bonus as bonus_used, u.subscription_tier as tier
  )
  select charged.*, (select json_agg(json_build_array(id, -credits) order by id)::text from grants_drawn) as grant_draws from charged`;

/**
 * Gives credits back to the grants they were drawn from (a release, a refund). A grant that expired
 * meanwhile takes them back and is due again, so the expiry job removes them with an entry (expiry
 * removes only what is left); a frozen grant holds them with its frozen credits, out of the balance.
 * Returns how many credits went back into the balance through grants (`bonus`).
 */
export const returnToGrantsSql = (userId: string, draws: GrantDraws) => {
  if (!draws.length) return null;
  const rows = sql.join(
    draws.map(([id, delta]) => sql`(${id}::bigint, ${-delta}::int)`),
    sql`, `,
  );
  return sql`
    with back(id, credits) as (values ${rows}),
    returned as (
      update credit_grants g set
        remaining = g.remaining + case when g.frozen_at is null then b.credits else 0 end,
        frozen_credits = g.frozen_credits + case when g.frozen_at is null then 0 else b.credits end,
        expired_at = null
      from back b where g.id = b.id and g.user_id = ${userId}
      returning g.id, case when g.frozen_at is null then b.credits else 0 end as credits
    )
    select coalesce(sum(credits), 0)::int as bonus,
           (select json_agg(json_build_array(id, credits) order by id)::text from returned where credits > 0) as grant_draws
    from returned`;
};
