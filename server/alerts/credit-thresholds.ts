import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { PoolView } from '../../shared/pools';
import type { DbOrTx } from '../db/client';
import { queryOne } from '../db/rows';
import { listPools } from '../pools/pool-admin';
import { recordAlert, type AlertInput } from './alert-sink';
import { creditAlerts } from './tables';

const CHECKED_TYPES = ['pool_low', 'pool_usage_high', 'users_out_of_credits'] as const;
type CheckedType = (typeof CHECKED_TYPES)[number];
type Rule = { alertType: string; thresholdValue: string | null };

export type RaisedThresholdAlert = AlertInput & { subject: string; id: number; repeated: boolean };

const DEFAULT_USAGE_PERCENT = 90;
const DEFAULT_USERS_OUT = 10;

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

function usersOut(rule: Rule, count: number): AlertInput | null {
  const limit = rule.thresholdValue !== null ? Number(rule.thresholdValue) : DEFAULT_USERS_OUT;
  if (count <= limit) return null;
  return {
    type: 'users_out_of_credits',
    level: 'info',
    message: `${count} users have no credits left (threshold ${limit}).`,
    metadata: { count, threshold: limit },
  };
}

const usersAtZero = async (db: DbOrTx) =>
  Number((await queryOne<{ n: number }>(db, sql`select count(*)::int as n from user_credits where current_balance + bonus_balance = 0`))!.n);

/**
 * The seed's threshold checks, with thresholds from the active rules in credit_alerts: pools at or
 * under their low line, pools that used most of what was purchased, many users at zero. Suspended
 * pools are skipped (nobody draws them). A check whose rule is inactive or deleted does not run.
 * Safe to repeat: a condition that persists is counted on its open alert, not raised anew.
 */
export async function checkCreditThresholds(db: DbOrTx): Promise<RaisedThresholdAlert[]> {
  const rules = await db
    .select({ alertType: creditAlerts.alertType, thresholdValue: creditAlerts.thresholdValue })
    .from(creditAlerts)
    .where(and(eq(creditAlerts.isActive, true), inArray(creditAlerts.alertType, [...CHECKED_TYPES])))
    .orderBy(asc(creditAlerts.id));
  if (!rules.length) return [];
  const types = new Set(rules.map((r) => r.alertType as CheckedType));
  const pools = types.has('pool_low') || types.has('pool_usage_high') ? (await listPools(db)).filter((p) => p.status !== 'suspended') : [];
  const zeroUsers = types.has('users_out_of_credits') ? await usersAtZero(db) : 0;

  // Keyed by type + subject: two rules of one type that both fire raise one occurrence, not two.
  const found = new Map<string, AlertInput>();
  const add = (a: AlertInput | null) => a && !found.has(`${a.type}\0${a.subject ?? ''}`) && found.set(`${a.type}\0${a.subject ?? ''}`, a);
  for (const rule of rules) {
    if (rule.alertType === 'pool_low') pools.forEach((p) => add(poolLow(rule, p)));
    else if (rule.alertType === 'pool_usage_high') pools.forEach((p) => add(poolUsageHigh(rule, p)));
    else add(usersOut(rule, zeroUsers));
  }

  const raised: RaisedThresholdAlert[] = [];
  for (const alert of found.values()) raised.push({ ...alert, subject: alert.subject ?? '', ...(await recordAlert(db, alert)) });
  return raised;
}
