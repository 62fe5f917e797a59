import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../auth/audit';
import { auditLog } from '../auth/tables';
import { drawFromPool } from '../pools/draw';
import { setPoolSuspended } from '../pools/pool-admin';
import { platformSettings } from '../pools/tables';
import { createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { newUser, reasonOf, setAllowanceBalance } from '../test/ledger-helpers';
import { seedPool } from '../test/pool-helpers';
import { checkCreditThresholds } from './credit-thresholds';
import { creditAlerts, systemAlerts } from './tables';

let env: TestEnv;
let admin: Awaited<ReturnType<typeof signedInCaller>>;
let analyst: Awaited<ReturnType<typeof signedInCaller>>;
beforeAll(async () => {
  env = await createTestEnv();
  admin = await signedInCaller(env.deps, 'admin');
  analyst = await signedInCaller(env.deps, 'analyst');
});
afterAll(async () => {
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const raisedFor = async (subject: string) => (await checkCreditThresholds(db())).filter((a) => a.subject === subject);
const consume = async (provider: string, credits: number) => {
  for (let i = 0; i < credits; i++) expect(await db().transaction((tx) => drawFromPool(tx, provider, 1))).not.toBeNull();
};
/** Changes the seeded rule of `type` for one test and puts it back afterwards. */
async function withRule(type: string, change: { thresholdValue?: string | null; isActive?: boolean }, body: () => Promise<void>) {
  const [before] = await db().select().from(creditAlerts).where(eq(creditAlerts.alertType, type));
  await db().update(creditAlerts).set(change).where(eq(creditAlerts.id, before!.id));
  try {
    await body();
  } finally {
    await db().update(creditAlerts).set({ thresholdValue: before!.thresholdValue, isActive: before!.isActive }).where(eq(creditAlerts.id, before!.id));
  }
}

describe('[ALERTS] credit thresholds', () => {
  it('a pool at or under its own refill threshold raises a pool_low warning; one credit above raises nothing', async () => {
    const at = await seedPool(env.deps, 100, { autoRefillThreshold: 100 });
    const above = await seedPool(env.deps, 101, { autoRefillThreshold: 100 });
    const [low] = await raisedFor(at);
    expect(low).toMatchObject({ type: 'pool_low', level: 'warning', subject: at, repeated: false, metadata: { availableBalance: 100, threshold: 100 } });
    expect(await raisedFor(above)).toEqual([]);
  });

  it("the rule's threshold_value, when set, replaces the pool's own threshold", async () => {
    const provider = await seedPool(env.deps, 400, { autoRefillThreshold: 0 });
    expect(await raisedFor(provider)).toEqual([]);
    await withRule('pool_low', { thresholdValue: '500' }, async () => {
      expect((await raisedFor(provider)).map((a) => [a.type, a.metadata?.threshold])).toEqual([['pool_low', 500]]);
    });
  });

  it('usage over 90 % of what was purchased raises pool_usage_high; exactly 90 % does not', async () => {
    const ninety = await seedPool(env.deps, 100);
    const over = await seedPool(env.deps, 100);
    await consume(ninety, 90);
    await consume(over, 91);
    expect(await raisedFor(ninety)).toEqual([]);
    const [high] = await raisedFor(over);
    expect(high).toMatchObject({ type: 'pool_usage_high', level: 'warning', metadata: { totalConsumed: 91, totalPurchased: 100, thresholdPercent: 90 } });
  });

  it('a suspended pool raises nothing, however low', async () => {
    const provider = await seedPool(env.deps, 10, { autoRefillThreshold: 50 });
    await setPoolSuspended(db(), cliActor, { provider, suspended: true, reason: 'provider outage' });
    expect(await raisedFor(provider)).toEqual([]);
  });

  it('the users_out_of_credits threshold set through the Settings procedure decides, per paying tier; free users never count', async () => {
    const set = (n: number) => admin.caller.admin.platformSettings.setUsersOutThreshold({ usersOutOfCreditsThreshold: n, reason: 'on-call wants fewer pages' });
    const saved = await set(3);
    expect(saved.usersOutOfCreditsThreshold).toBe(3);
    const [row] = await db().select().from(platformSettings).where(eq(platformSettings.id, 1));
    expect(row!.usersOutOfCreditsThreshold).toBe(3);
    const [entry] = await db().select().from(auditLog).where(eq(auditLog.action, 'settings.users_out_threshold'));
    expect(entry).toMatchObject({ before: { usersOutOfCreditsThreshold: 10 }, after: { usersOutOfCreditsThreshold: 3 }, reason: 'on-call wants fewer pages' });
    expect(await reasonOf(set(0))).toBe('BAD_REQUEST');
    expect(await reasonOf(set(2.5))).toBe('BAD_REQUEST');
    expect(await reasonOf(analyst.caller.admin.platformSettings.setUsersOutThreshold({ usersOutOfCreditsThreshold: 5, reason: 'not mine to set' }))).toBe('FORBIDDEN');
    try {
      for (let i = 0; i < 12; i++) await setAllowanceBalance(db(), await newUser(db(), 'free'), 0);
      for (let i = 0; i < 3; i++) await setAllowanceBalance(db(), await newUser(db(), 'plus'), 0);
      await newUser(db(), 'pro'); // has credits: not counted
      expect(await raisedFor('free')).toEqual([]);
      expect(await raisedFor('plus')).toEqual([]); // 3 is not more than 3
      await setAllowanceBalance(db(), await newUser(db(), 'plus'), 0);
      const [out] = await raisedFor('plus');
      expect(out).toMatchObject({ type: 'users_out_of_credits', level: 'info', metadata: { tier: 'plus', count: 4, threshold: 3 } });
      expect(await raisedFor('pro')).toEqual([]);
      expect(await raisedFor('free')).toEqual([]);
      // Raised in Settings above the count: the tier's alert resolves on the next check.
      await set(4);
      expect(await raisedFor('plus')).toEqual([]);
      const [plusAlert] = await db()
        .select()
        .from(systemAlerts)
        .where(and(eq(systemAlerts.type, 'users_out_of_credits'), eq(systemAlerts.subject, 'plus')));
      expect(plusAlert!.status).toBe('resolved');
    } finally {
      await set(10);
    }
  });

  it('a users_out_of_credits rule cannot carry a threshold of its own: Settings is its one home', async () => {
    const rules = admin.caller.admin.alerts.rules;
    expect(await reasonOf(rules.create({ alertType: 'users_out_of_credits', thresholdValue: '5' }))).toBe('BAD_REQUEST');
    const [rule] = await db().select().from(creditAlerts).where(eq(creditAlerts.alertType, 'users_out_of_credits'));
    expect(rule!.thresholdValue).toBeNull();
    expect(await reasonOf(rules.update({ id: String(rule!.id), alertType: 'users_out_of_credits', thresholdValue: '5' }))).toBe('BAD_REQUEST');
  });

  it('running the check again counts the repeat on the open alert instead of raising another', async () => {
    const provider = await seedPool(env.deps, 5, { autoRefillThreshold: 10 });
    const [first] = await raisedFor(provider);
    const [second] = await raisedFor(provider);
    expect(second!.id).toBe(first!.id);
    expect(second!.repeated).toBe(true);
    const rows = await db().select().from(systemAlerts).where(eq(systemAlerts.subject, provider));
    expect(rows.map((r) => [r.type, r.occurrences, r.status])).toEqual([['pool_low', 2, 'open']]);
  });

  it('an inactive rule turns its check off', async () => {
    const provider = await seedPool(env.deps, 0);
    await withRule('pool_low', { isActive: false }, async () => {
      expect(await raisedFor(provider)).toEqual([]);
    });
    expect((await raisedFor(provider)).map((a) => a.type)).toEqual(['pool_low']);
  });
});
