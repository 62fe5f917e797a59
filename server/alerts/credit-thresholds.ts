import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { PoolView } from '../../shared/pools';
import type { DbOrTx } from '../db/client';
import { z } from 'zod';
import { col, queryRows } from '../db/rows';
import { listPools } from '../pools/pool-admin';
import { platformSettings } from '../pools/tables';
import { recordAlert, resolveAllBut, type AlertInput } from './alert-sink';
import { creditAlerts } from './tables';

const CHECKED_TYPES = ['pool_low', 'pool_usage_high', 'users_out_of_credits'] as const;
type CheckedType = (typeof CHECKED_TYPES)[number];
type Rule = { alertType: string; thresholdValue: string | null };

export type RaisedThresholdAlert = AlertInput & { subject: string; id: number; repeated: boolean };

const DEFAULT_USAGE_PERCENT = 90;

function poolLow(rule: Rule, pool: PoolView): AlertInput | null {
  // A rule's own threshold overrides the pool's; without one the pool's refill threshold is the line.
  const threshold = rule.thresholdValue !== null ? Number(rule.thresholdValue) : pool.effectiveThreshold;
  if (pool.availableBalance > threshold) return null;
  return {
    type: 'pool_low',
    level: 'warning',
    subject: pool.provider,
    message: `The ${pool.provider} pool is low: ${pool.availableBalance} credits left (threshold ${threshold}).`,
    metadata: { provider: pool.provider, availableBalance: pool.availableBalance, threshold },
  };
}

function poolUsageHigh(rule: Rule, pool: PoolView): AlertInput | null {
  const percent = rule.thresholdValue !== null ? Number(rule.thresholdValue) : DEFAULT_USAGE_PERCENT;
  // Integers compared without dividing, so 90 % of 10 is exactly 9.
  if (pool.totalPurchased <= 0 || pool.totalConsumed * 100 <= percent * pool.totalPurchased) return null;
  const used = ((pool.totalConsumed * 100) / pool.totalPurchased).toFixed(1);
  return {
    type: 'pool_usage_high',
    level: 'warning',
    subject: pool.provider,
    message: `The ${pool.provider} pool has used ${used}% of the ${pool.totalPurchased} credits purchased (threshold ${percent}%).`,
    metadata: { provider: pool.provider, totalConsumed: pool.totalConsumed, totalPurchased: pool.totalPurchased, thresholdPercent: percent },
  };
}

/** One alert per paying tier whose users at zero exceed the Settings threshold (free users are always at zero). */
function usersOut(limit: number, tier: string, count: number): AlertInput | null {
  if (count <= limit) return null;
  return {
    type: 'users_out_of_credits',
    level: 'info',
    subject: tier,
    message: `${count} ${tier} users have no credits left (threshold ${limit}).`,
    metadata: { tier, count, threshold: limit },
  };
}

/** Users at zero per paying tier: a free user's allowance is 0, so counting them would fire forever. */
const usersAtZeroByTier = async (db: DbOrTx) =>
  queryRows(
    db,
    z.object({ tier: col.text, n: col.integer }),
    sql`select subscription_tier as tier, count(*)::int as n from user_credits
        where subscription_tier <> 'free' and current_balance + bonus_balance = 0
        group by subscription_tier order by subscription_tier`,
  );

/** Settings owns this threshold; the users_out_of_credits rule only turns the check on and routes it. */
async function usersOutThreshold(db: DbOrTx): Promise<number> {
  const [s] = await db.select({ n: platformSettings.usersOutOfCreditsThreshold }).from(platformSettings).where(eq(platformSettings.id, 1));
  return s!.n;
}

/**
 * A refill waiting for approval (over the budget, or bought by hand) stops being news once it is
 * decided: its alert resolves when the pool has no request waiting any more.
 */
async function resolveDecidedRefills(db: DbOrTx) {
  const waiting = await queryRows(db, z.object({ provider: col.text }), sql`select distinct provider from credit_purchase_requests where status = 'pending_manual_approval'`);
  const providers = waiting.map((w) => w.provider);
  await resolveAllBut(db, 'refill_over_budget', providers);
  await resolveAllBut(db, 'refill_awaiting_approval', providers);
}

/**
 * The seed's threshold checks, turned on by the active rules in credit_alerts (pool thresholds from
 * the rules, the users-out threshold from Settings): pools at or
 * under their low line, pools that used most of what was purchased, many users of a paying tier at
 * zero. Suspended pools are skipped (nobody draws them). A check whose rule is inactive or deleted
 * does not run. Safe to repeat: a condition that persists is counted on its open alert, not raised
 * anew; one that has cleared (or whose check is off) resolves its alert, and refill approvals that
 * were decided resolve theirs.
 */
export async function checkCreditThresholds(db: DbOrTx): Promise<RaisedThresholdAlert[]> {
  await resolveDecidedRefills(db);
  const rules = await db
    .select({ alertType: creditAlerts.alertType, thresholdValue: creditAlerts.thresholdValue })
    .from(creditAlerts)
    .where(and(eq(creditAlerts.isActive, true), inArray(creditAlerts.alertType, [...CHECKED_TYPES])))
    .orderBy(asc(creditAlerts.id));
  const types = new Set(rules.map((r) => r.alertType as CheckedType));
  const pools = types.has('pool_low') || types.has('pool_usage_high') ? (await listPools(db)).filter((p) => p.status !== 'suspended') : [];
  const zeroUsers = types.has('users_out_of_credits') ? await usersAtZeroByTier(db) : [];
  const usersOutLimit = types.has('users_out_of_credits') ? await usersOutThreshold(db) : 0;

  // Keyed by type + subject: two rules of one type that both fire raise one occurrence, not two.
  const found = new Map<string, AlertInput>();
  const add = (a: AlertInput | null) => a && !found.has(`${a.type}\0${a.subject ?? ''}`) && found.set(`${a.type}\0${a.subject ?? ''}`, a);
  for (const rule of rules) {
    if (rule.alertType === 'pool_low') pools.forEach((p) => add(poolLow(rule, p)));
    else if (rule.alertType === 'pool_usage_high') pools.forEach((p) => add(poolUsageHigh(rule, p)));
    else zeroUsers.forEach((z) => add(usersOut(usersOutLimit, z.tier, z.n)));
  }

  const raised: RaisedThresholdAlert[] = [];
  for (const alert of found.values()) raised.push({ ...alert, subject: alert.subject ?? '', ...(await recordAlert(db, alert)) });
  for (const type of CHECKED_TYPES) {
    await resolveAllBut(
      db,
      type,
      raised.filter((a) => a.type === type).map((a) => a.subject),
    );
  }
  return raised;
}
