import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRow, queryRows } from '../db/rows';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { newUser } from '../test/ledger-helpers';
import { audit } from './audit';

let env: TestEnv;
let admin: Awaited<ReturnType<typeof signedInCaller>>;
let analyst: Awaited<ReturnType<typeof signedInCaller>>;
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv();
  admin = await signedInCaller(env.deps, 'admin');
  analyst = await signedInCaller(env.deps, 'analyst');
});
afterAll(() => env.close());

describe('[AUDIT] the audit log page', () => {
  it('lists what admins did (who, action, target, before → after, reason, time), newest first, to an analyst too', async () => {
    const userId = await newUser(db(), 'free');
    await admin.caller.admin.users.grant({ userId, credits: 4, reason: 'audit page grant' });
    await admin.caller.admin.users.setTier({ userId, tier: 'pro', reason: 'audit page upgrade' });
    const { rows, total } = await analyst.caller.admin.audit.list({ targetId: userId });
    expect(total).toBe(2);
    expect(rows.map((r) => r.action)).toEqual(['user.tier', 'credits.grant']);
    expect(rows[1]).toMatchObject({ actor: admin.admin.email, targetType: 'user', targetId: userId, reason: 'audit page grant', before: { balance: 0 }, after: { balance: 4 } });
    expect(rows[0]!.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Number(rows[0]!.id)).toBeGreaterThan(Number(rows[1]!.id));
    // And the page is what the table holds.
    const stored = await queryRows(db(), countRow, sql`select count(*)::int as n from audit_log where target_id = ${userId}`);
    expect(stored[0]!.n).toBe(2);
  });

  it('filters by actor (email prefix), action (exact or a prefix ending in a dot), target and time window', async () => {
    const target = uniqueId('tgt');
    const alice = { adminId: null, label: `${uniqueId('alice')}@example.com` };
    const bob = { adminId: null, label: `${uniqueId('bob')}@example.com` };
    await audit(db(), alice, { action: 'pool.update', targetType: 'pool', targetId: target, reason: 'one' });
    await audit(db(), alice, { action: 'pool.refill.request', targetType: 'pool', targetId: target, reason: 'two' });
    await audit(db(), bob, { action: 'pool.update', targetType: 'pool', targetId: target, reason: 'three' });
    await audit(db(), bob, { action: 'tier.update', targetType: 'tier', targetId: target, reason: 'four' });
    await db().execute(sql`update audit_log set created_at = '2020-01-01T00:00:00Z' where target_id = ${target} and reason = 'four'`);
    const reasons = async (f: Record<string, string>) => (await admin.caller.admin.audit.list({ targetId: target, ...f })).rows.map((r) => r.reason);

    expect(await reasons({ actor: alice.label.slice(0, 12) })).toEqual(['two', 'one']);
    expect(await reasons({ actor: alice.label.slice(0, 12).toUpperCase() })).toEqual(['two', 'one']);
    expect(await reasons({ action: 'pool.update' })).toEqual(['three', 'one']);
    expect(await reasons({ action: 'pool.' })).toEqual(['three', 'two', 'one']);
    expect(await reasons({ targetType: 'tier' })).toEqual(['four']);
    expect(await reasons({ to: '2021-01-01T00:00:00Z' })).toEqual(['four']);
    expect(await reasons({ from: '2021-01-01T00:00:00Z' })).toEqual(['three', 'two', 'one']);
    expect(await reasons({ from: '2019-12-31T00:00:00Z', to: '2020-01-02T00:00:00Z', actor: bob.label })).toEqual(['four']);
    // LIKE's own wildcards are literal in a prefix: `%` matches no actor.
    expect(await reasons({ actor: '%' })).toEqual([]);
  });

  it('pages with the shared pagination schema: the total stays, the rows move on, past the end is empty', async () => {
    const target = uniqueId('page');
    for (let i = 0; i < 5; i++) await audit(db(), { adminId: null, label: 'cli' }, { action: 'job.run', targetType: 'job', targetId: target, reason: `run ${i}` });
    const page = (n: number) => admin.caller.admin.audit.list({ targetId: target, page: n, pageSize: 2 });
    expect((await page(0)).rows.map((r) => r.reason)).toEqual(['run 4', 'run 3']);
    expect(await page(2)).toMatchObject({ total: 5, rows: [{ reason: 'run 0' }] });
    expect(await page(3)).toEqual({ total: 5, rows: [] });
  });

  it('refuses a bad time and a page size past the shared schema’s limit (BAD_REQUEST)', async () => {
    await expect(admin.caller.admin.audit.list({ from: 'yesterday' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(admin.caller.admin.audit.list({ pageSize: 201 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
