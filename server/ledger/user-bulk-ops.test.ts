import { and, eq, like, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditLog } from '../auth/tables';
import { col, queryOne } from '../db/rows';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { balanceRow, countEntries, expectLedgerClean, key, newUser, reasonOf, setAllowanceBalance } from '../test/ledger-helpers';
import { consumeCredits } from './consume';
import { bulkGrants, creditTransactions, userCredits } from './tables';
import { upsertUser } from './users';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(() => expectLedgerClean(env.deps.dbHandle.db));
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;
const admin = () => signedInCaller(env.deps, 'admin');

/** `n` users of `tier` whose ids share a fresh prefix, so a search for it matches them alone. */
async function cohort(tier: 'free' | 'plus' | 'pro', n: number) {
  const prefix = uniqueId('bulk');
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const userId = `${prefix}-${i}`;
    await upsertUser(db(), { userId, tier, email: `${userId}@example.com` });
    ids.push(userId);
  }
  return { prefix, ids };
}

const grantAudits = (userId: string) =>
  db()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.targetId, userId), eq(auditLog.action, 'credits.grant')));

describe('[USERS] creating a user by hand', () => {
  it('a created user gets the tier allowance as users.upsert gives it, one allocation entry, audited', async () => {
    const { caller, admin: who } = await admin();
    const userId = uniqueId('made');
    const created = await caller.admin.users.create({ userId, email: `${userId.toUpperCase()}@Example.com`, tier: 'plus' });
    expect(created).toMatchObject({ userId, tier: 'plus', monthlyAllowance: 10, currentBalance: 10, email: `${userId}@example.com` });
    const viaApi = await newUser(db(), 'plus');
    expect(await balanceRow(db(), userId)).toEqual(await balanceRow(db(), viaApi));
    expect(await countEntries(db(), userId, 'allocation')).toBe(1);
    expect(await countEntries(db(), userId)).toBe(1);
    const [entry] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, userId), eq(auditLog.action, 'user.create')));
    expect(entry).toMatchObject({ actorAdminId: who.id, after: { tier: 'plus', balance: 10 } });
  });

  it('creating an id that exists is CONFLICT and changes nothing about that user', async () => {
    const { caller } = await admin();
    const userId = await newUser(db(), 'pro');
    await consumeCredits(db(), { userId, credits: 3, enhancementType: 'upscale', idempotencyKey: key() });
    expect(await reasonOf(caller.admin.users.create({ userId, tier: 'free', email: 'other@example.com' }))).toBe('CONFLICT');
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 22 });
    const [row] = await db().select().from(userCredits).where(eq(userCredits.userId, userId));
    expect(row!.subscriptionTier).toBe('pro');
    expect(await countEntries(db(), userId, 'tier_change')).toBe(0);
  });

  it('an analyst cannot create, preview or apply any bulk operation: FORBIDDEN', async () => {
    const { caller } = await signedInCaller(env.deps, 'analyst');
    const userId = uniqueId('nope');
    const tries = await Promise.all([
      reasonOf(caller.admin.users.create({ userId, tier: 'plus' })),
      reasonOf(caller.admin.users.bulkGrantPreview({ filter: {}, credits: 1 })),
      reasonOf(caller.admin.users.bulkGrant({ filter: {}, credits: 1, reason: 'nope', idempotencyKey: key(), expectedUsers: 1 })),
      reasonOf(caller.admin.users.importTiersPreview({ csv: `${userId},pro` })),
      reasonOf(caller.admin.users.importTiers({ csv: `${userId},pro`, reason: 'nope' })),
    ]);
    expect(tries).toEqual(Array(5).fill('FORBIDDEN'));
    expect(await queryOne(db(), z.object({ user_id: col.text }), sql`select user_id from users where user_id = ${userId}`)).toBeUndefined();
  });
});

describe('[USERS] bulk grant to the filtered users', () => {
  it('the preview counts the users the filters match and the total credits', async () => {
    const { caller } = await admin();
    const plus = await cohort('plus', 3);
    await cohort('free', 2);
    expect(await caller.admin.users.bulkGrantPreview({ filter: { search: plus.prefix }, credits: 7 })).toEqual({ users: 3, totalCredits: 21 });
    expect(await caller.admin.users.bulkGrantPreview({ filter: { search: plus.prefix, tier: 'free' }, credits: 7 })).toEqual({ users: 0, totalCredits: 0 });
  });

  it('each matching user gets one grant entry and one audit entry, all with the one reason; others get nothing', async () => {
    const { caller, admin: who } = await admin();
    const { prefix, ids } = await cohort('plus', 4);
    const outsider = await newUser(db(), 'plus');
    const result = await caller.admin.users.bulkGrant({ filter: { search: prefix, tier: 'plus' }, credits: 5, reason: 'outage goodwill', idempotencyKey: key(), expectedUsers: 4 });
    expect(result).toMatchObject({ usersGranted: 4, totalCredits: 20, replayed: false });
    for (const userId of ids) {
      expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 10, bonus: 5, total: 15 });
      const grants = await db()
        .select()
        .from(creditTransactions)
        .where(and(eq(creditTransactions.userId, userId), eq(creditTransactions.transactionType, 'grant')));
      expect(grants).toHaveLength(1);
      expect(grants[0]).toMatchObject({ creditsDelta: 5, bonusCredits: 5, balanceAfter: 15, reason: 'outage goodwill', actor: who.email });
      const audits = await grantAudits(userId);
      expect(audits).toHaveLength(1);
      expect(audits[0]).toMatchObject({
        actorAdminId: who.id,
        reason: 'outage goodwill',
        before: { balance: 10, bonusBalance: 0 },
        after: { balance: 15, bonusBalance: 5, bulkGrantId: result.bulkGrantId },
      });
    }
    expect(await balanceRow(db(), outsider)).toMatchObject({ bonus: 0 });
    const [summary] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'credits.bulk_grant'), eq(auditLog.targetId, result.bulkGrantId)));
    expect(summary).toMatchObject({ reason: 'outage goodwill', after: { users: 4, totalCredits: 20 } });
  });

  it('a replay of the same idempotency key grants nothing more and returns the first result, even after the filter matches more users', async () => {
    const { caller } = await admin();
    const { prefix, ids } = await cohort('pro', 3);
    const input = { filter: { search: prefix }, credits: 2, reason: 'launch bonus', idempotencyKey: key(), expectedUsers: 3 };
    const first = await caller.admin.users.bulkGrant(input);
    await upsertUser(db(), { userId: `${prefix}-late`, tier: 'pro' });
    const [again, concurrent] = await Promise.all([caller.admin.users.bulkGrant(input), caller.admin.users.bulkGrant(input)]);
    expect(again).toEqual({ ...first, replayed: true });
    expect(concurrent).toEqual({ ...first, replayed: true });
    for (const userId of ids) expect(await countEntries(db(), userId, 'grant')).toBe(1);
    expect(await countEntries(db(), `${prefix}-late`, 'grant')).toBe(0);
    const entries = await db()
      .select()
      .from(creditTransactions)
      .where(like(creditTransactions.idempotencyKey, `bulk:${first.bulkGrantId}:%`));
    expect(entries).toHaveLength(3);
    expect(await reasonOf(caller.admin.users.bulkGrant({ ...input, credits: 3 }))).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('two clicks racing with one key grant once', async () => {
    const { caller } = await admin();
    const { prefix, ids } = await cohort('free', 5);
    const input = { filter: { search: prefix }, credits: 1, reason: 'double click', idempotencyKey: key(), expectedUsers: 5 };
    const results = await Promise.all([caller.admin.users.bulkGrant(input), caller.admin.users.bulkGrant(input), caller.admin.users.bulkGrant(input)]);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    for (const userId of ids) expect(await balanceRow(db(), userId)).toMatchObject({ total: 1 });
    expect(await db().select().from(bulkGrants).where(eq(bulkGrants.idempotencyKey, input.idempotencyKey))).toHaveLength(1);
  });

  it('when the filters match another count than the one confirmed, nothing is granted and the key stays free', async () => {
    const { caller } = await admin();
    const { prefix, ids } = await cohort('plus', 2);
    const input = { filter: { search: prefix }, credits: 4, reason: 'stale preview', idempotencyKey: key(), expectedUsers: 3 };
    expect(await reasonOf(caller.admin.users.bulkGrant(input))).toBe('CONFLICT');
    for (const userId of ids) expect(await countEntries(db(), userId, 'grant')).toBe(0);
    expect(await db().select().from(bulkGrants).where(eq(bulkGrants.idempotencyKey, input.idempotencyKey))).toHaveLength(0);
    expect((await caller.admin.users.bulkGrant({ ...input, expectedUsers: 2 })).usersGranted).toBe(2);
  });

  it('the out-of-credits filter grants exactly the users at zero', async () => {
    const { caller } = await admin();
    const { prefix, ids } = await cohort('plus', 3);
    await setAllowanceBalance(db(), ids[0]!, 0);
    await consumeCredits(db(), { userId: ids[1]!, credits: 10, enhancementType: 'upscale', idempotencyKey: key() });
    const filter = { search: prefix, outOfCredits: true };
    expect(await caller.admin.users.bulkGrantPreview({ filter, credits: 3 })).toEqual({ users: 2, totalCredits: 6 });
    await caller.admin.users.bulkGrant({ filter, credits: 3, reason: 'empty wallets', idempotencyKey: key(), expectedUsers: 2 });
    expect((await Promise.all(ids.map((id) => balanceRow(db(), id)))).map((b) => b.total)).toEqual([3, 3, 10]);
  });
});

describe('[USERS] tier import from CSV', () => {
  it('the preview shows the changes with the allowance after max(0, allowance − spent), unchanged rows, unknown users and invalid rows, and writes nothing', async () => {
    const { caller } = await admin();
    const [plusSpent, pro, free] = [await newUser(db(), 'plus'), await newUser(db(), 'pro'), await newUser(db(), 'free')];
    await consumeCredits(db(), { userId: plusSpent, credits: 4, enhancementType: 'upscale', idempotencyKey: key() });
    const ghost = uniqueId('ghost');
    const csv = ['external_id,tier', `${plusSpent},pro`, `${pro},Free`, `"${free}",free`, `${ghost},plus`, 'bad id!,pro', `${uniqueId('x')},gold`, `${plusSpent},plus`, ''].join('\r\n');
    const preview = await caller.admin.users.importTiersPreview({ csv });
    expect(preview.rows).toBe(7);
    expect(preview.changes).toEqual([
      { line: 2, userId: plusSpent, fromTier: 'plus', toTier: 'pro', allowanceBefore: 6, allowanceAfter: 21 },
      { line: 3, userId: pro, fromTier: 'pro', toTier: 'free', allowanceBefore: 25, allowanceAfter: 0 },
    ]);
    expect(preview.unchanged).toBe(1);
    expect(preview.unknown).toEqual([{ line: 5, userId: ghost }]);
    expect(preview.invalid.map((i) => i.line)).toEqual([6, 7, 8]);
    expect(preview.invalid[1]!.message).toMatch(/Tier must be free, plus or pro \(got "gold"\)/);
    expect(preview.invalid[2]!.message).toMatch(/already on line 2/);
    expect(await countEntries(db(), plusSpent, 'tier_change')).toBe(0);
    expect(await countEntries(db(), pro, 'tier_change')).toBe(0);
  });

  it('applying changes each tier by the tier-change rule, with its entry and audit; unknown and invalid rows are skipped; a second import changes nothing', async () => {
    const { caller } = await admin();
    const [a, b] = [await newUser(db(), 'pro'), await newUser(db(), 'free')];
    await consumeCredits(db(), { userId: a, credits: 25, enhancementType: 'upscale', idempotencyKey: key() });
    const csv = `${a};free\n${b};plus\n${uniqueId('ghost')};pro\nnot a row\n`;
    expect(await caller.admin.users.importTiers({ csv, reason: 'crm sync' })).toEqual({ changed: 2, unchanged: 0, unknown: 1, invalid: 1 });
    expect(await balanceRow(db(), a)).toMatchObject({ allowance: 0 });
    expect(await balanceRow(db(), b)).toMatchObject({ allowance: 10 });
    // Back to pro in a second import: spent allowance is never restored (ADR 005).
    expect(await caller.admin.users.importTiers({ csv: `${a},pro\n${b},plus`, reason: 'crm sync again' })).toEqual({ changed: 1, unchanged: 1, unknown: 0, invalid: 0 });
    expect(await balanceRow(db(), a)).toMatchObject({ allowance: 0 });
    expect(await countEntries(db(), a, 'tier_change')).toBe(2);
    const audits = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, a), eq(auditLog.action, 'user.tier')));
    expect(audits.map((x) => x.reason)).toEqual(['crm sync', 'crm sync again']);
    const [summary] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'user.tier_import'), eq(auditLog.reason, 'crm sync')));
    expect(summary!.after).toEqual({ changed: 2, unchanged: 0, unknown: 1, invalid: 1 });
  });

  it('a CSV over the row limit is refused whole', async () => {
    const { caller } = await admin();
    const csv = Array.from({ length: 5_001 }, (_, i) => `u-${i},plus`).join('\n');
    expect(await reasonOf(caller.admin.users.importTiersPreview({ csv }))).toBe('BAD_REQUEST');
  });
});
