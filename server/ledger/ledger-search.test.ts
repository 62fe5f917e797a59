import { sql, type SQL } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cliActor } from '../auth/audit';
import { col, countRow, queryRows } from '../db/rows';
import { createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { expectPoolsClean } from '../test/pool-helpers';
import { grantCredits } from './admin-ops';
import { consumeCredits } from './consume';
import { ledgerRowsQuery, searchLedger } from './ledger-search';

let env: TestEnv;
let analyst: Awaited<ReturnType<typeof signedInCaller>>;
const db = () => env.deps.dbHandle.db;
let alice: string;
let bob: string;
let aliceKey: string;
let aliceCharge: string;

beforeAll(async () => {
  env = await createTestEnv();
  analyst = await signedInCaller(env.deps, 'analyst');
  alice = await newUser(db(), 'free');
  bob = await newUser(db(), 'free');
  await grantCredits(db(), cliActor, { userId: alice, credits: 5, reason: 'ledger search' });
  await grantCredits(db(), cliActor, { userId: bob, credits: 3, reason: 'ledger search' });
  aliceKey = key();
  aliceCharge = (await consumeCredits(db(), { userId: alice, credits: 2, enhancementType: 'upscale', idempotencyKey: aliceKey })).transactionId;
  await consumeCredits(db(), { userId: bob, credits: 1, enhancementType: 'lighting', idempotencyKey: key() });
});
// Whatever a test did, the books still balance.
afterEach(async () => {
  await expectLedgerClean(db());
  await expectPoolsClean(db());
});
afterAll(() => env.close());

const search = (input: Record<string, unknown>) => analyst.caller.admin.ledger.search(input);

describe('[LEDGER] the ledger explorer finds any transaction across users', () => {
  it('by transaction number: that one entry, with its user, email and key', async () => {
    const { rows, total } = await search({ query: aliceCharge });
    expect(total).toBe(1);
    expect(rows[0]).toMatchObject({
      transactionId: aliceCharge,
      userId: alice,
      email: `${alice}@example.com`,
      type: 'consumption',
      creditsDelta: -2,
      idempotencyKey: aliceKey,
      matchedBy: 'transactionId',
    });
  });

  it('by idempotency key: the entry that key charged', async () => {
    const { rows } = await search({ query: aliceKey });
    expect(rows.map((r) => [r.transactionId, r.matchedBy])).toEqual([[aliceCharge, 'idempotencyKey']]);
  });

  it('by user id and by email (any case): all of that user’s entries, newest first, nobody else’s', async () => {
    const stored = await queryRows(db(), z.object({ id: col.id }), sql`select id::text from credit_transactions where user_id = ${alice} order by id desc`);
    const byId = await search({ query: alice });
    expect(byId.rows.map((r) => r.transactionId)).toEqual(stored.map((r) => r.id));
    expect(new Set(byId.rows.map((r) => r.matchedBy))).toEqual(new Set(['userId']));
    const byEmail = await search({ query: `${alice}@EXAMPLE.com` });
    expect(byEmail.rows.map((r) => r.transactionId)).toEqual(stored.map((r) => r.id));
    expect(new Set(byEmail.rows.map((r) => r.matchedBy))).toEqual(new Set(['email']));
    expect(byEmail.total).toBe(stored.length);
  });

  it('filters by type, source, provider and time, alone and with a search', async () => {
    expect((await search({ query: alice, type: 'grant' })).rows.map((r) => r.type)).toEqual(['grant']);
    const consumptions = await search({ type: 'consumption', source: 'user_credits' });
    expect(consumptions.rows.map((r) => r.userId)).toEqual(expect.arrayContaining([alice, bob]));
    expect(consumptions.rows.every((r) => r.type === 'consumption' && r.source === 'user_credits')).toBe(true);
    expect((await search({ query: alice, source: 'platform_pool' })).total).toBe(0);
    expect((await search({ provider: 'nowhere' })).total).toBe(0);
    await db().execute(sql`update credit_transactions set created_at = '2020-06-01T00:00:00Z', provider = 'fal', cost_usd = '0.039000' where id = ${aliceCharge}::bigint`);
    const old = await search({ from: '2020-05-31T00:00:00Z', to: '2020-06-02T00:00:00Z' });
    expect(old.rows.map((r) => r.transactionId)).toEqual([aliceCharge]);
    // Money stays an exact decimal string.
    expect(old.rows[0]).toMatchObject({ provider: 'fal', costUsd: '0.039000', createdAt: '2020-06-01T00:00:00.000Z' });
    expect((await search({ provider: 'fal', query: alice })).rows.map((r) => r.transactionId)).toEqual([aliceCharge]);
  });

  it('a search that matches nothing is empty, and a bad filter is refused', async () => {
    expect(await search({ query: 'no-such-user-or-key' })).toEqual({ rows: [], total: 0, totalExact: true });
    await expect(search({ type: 'theft' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(search({ from: 'not a time' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('[LEDGER] the explorer pages a user’s history without reading all of it', () => {
  it('pages by user id are the user’s entries newest first, in order and without gaps, whatever the page size', async () => {
    const stored = (await queryRows(db(), z.object({ id: col.id }), sql`select id::text from credit_transactions where user_id = ${alice} order by id desc`)).map((r) => r.id);
    const paged: string[] = [];
    for (let page = 0; page < stored.length + 1; page++) paged.push(...(await search({ query: alice, page, pageSize: 1 })).rows.map((r) => r.transactionId));
    expect(paged).toEqual(stored);
    // A key that is both a user id and, as a number, no transaction: the user's branch alone.
    expect((await search({ query: alice, page: 1, pageSize: 2 })).rows.map((r) => r.transactionId)).toEqual(stored.slice(2, 4));
  });

  it('the total is exact up to its cap past the page, then a lower bound marked so', async () => {
    const stored = await queryRows(db(), countRow, sql`select count(*)::int as n from credit_transactions where user_id = ${alice}`);
    const n = stored[0]!.n;
    expect(n).toBeGreaterThan(1);
    expect(await searchLedger(db(), { query: alice, page: 0, pageSize: 1 }, n)).toMatchObject({ total: n, totalExact: true });
    expect(await searchLedger(db(), { query: alice, page: 0, pageSize: 1 }, n - 1)).toMatchObject({ total: n - 1, totalExact: false });
    // Counted from the page's start: on page 1 the cap reaches one row further.
    expect(await searchLedger(db(), { query: alice, page: 1, pageSize: 1 }, n - 1)).toMatchObject({ total: n, totalExact: true });
  });
});

describe('[LEDGER] the explorer pages forward from the last row it showed', () => {
  it('a page read from the row before it is the page the offset gives, with the same total, with or without a search or filter', async () => {
    for (const filter of [{ query: alice }, { query: alice, type: 'grant' as const }, {}]) {
      const offsetPages = [];
      for (let page = 0; page < 4; page++) offsetPages.push(await search({ ...filter, page, pageSize: 2 }));
      for (let page = 1; page < 4; page++) {
        // Only a full page has a page after it (the pager offers no next page otherwise).
        const previous = offsetPages[page - 1]!.rows;
        if (previous.length < 2) break;
        const before = previous.at(-1)!.transactionId;
        expect(await search({ ...filter, page, pageSize: 2, before }), JSON.stringify({ filter, page })).toEqual(offsetPages[page]);
      }
    }
  });

  it('rows that arrive after the first page shift nothing on the next page read from its last row', async () => {
    const carol = await newUser(db(), 'free');
    for (let i = 0; i < 4; i++) await grantCredits(db(), cliActor, { userId: carol, credits: 1, reason: `page ${i}` });
    const first = await search({ query: carol, page: 0, pageSize: 2 });
    const expected = await search({ query: carol, page: 1, pageSize: 2 });
    await grantCredits(db(), cliActor, { userId: carol, credits: 1, reason: 'arrived meanwhile' });
    const next = await search({ query: carol, page: 1, pageSize: 2, before: first.rows.at(-1)!.transactionId });
    expect(next.rows).toEqual(expected.rows);
    // By offset the same page now repeats a row the first page showed.
    expect((await search({ query: carol, page: 1, pageSize: 2 })).rows[0]!.transactionId).toBe(first.rows.at(-1)!.transactionId);
  });

  it('the total from a cursor counts the pages before it plus up to the cap from there', async () => {
    const stored = (await queryRows(db(), z.object({ id: col.id }), sql`select id::text from credit_transactions where user_id = ${alice} order by id desc`)).map((r) => r.id);
    const n = stored.length;
    expect(await searchLedger(db(), { query: alice, page: 1, pageSize: 1, before: stored[0]! }, n - 1)).toMatchObject({ total: n, totalExact: true });
    expect(await searchLedger(db(), { query: alice, page: 1, pageSize: 1, before: stored[0]! }, n - 2)).toMatchObject({ total: n - 1, totalExact: false });
  });

  it('a cursor that is not a transaction number is refused, naming the field', async () => {
    await expect(search({ page: 1, pageSize: 2, before: '12; drop table users' })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('before') });
  });
});

describe('[LEDGER] the explorer’s lookups use indexes', () => {
  /** The plan with sequential scans priced out (a small test table would be scanned anyway): which indexes serve it. */
  const plan = (query: SQL) =>
    db().transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return (await queryRows(tx, z.object({ 'QUERY PLAN': col.text }), sql`explain ${query}`)).map((r) => r['QUERY PLAN']).join('\n');
    });

  it('a search by key is index lookups (primary key, idempotency key, user), never a scan of the ledger; type and provider filters use theirs', async () => {
    const byKey = await plan(ledgerRowsQuery({ query: alice }, { limit: 50 }));
    expect(byKey).toContain('credit_transactions_idempotency_uq');
    expect(byKey).toContain('credit_transactions_user_idx');
    expect(byKey).toContain('users_email_idx');
    expect(byKey).not.toMatch(/Seq Scan on credit_transactions/);
    // A number may be a transaction number too: the primary key joins the lookups.
    const byNumber = await plan(ledgerRowsQuery({ query: '123' }, { limit: 50 }));
    expect(byNumber).toContain('credit_transactions_pkey');
    expect(byNumber).not.toMatch(/Seq Scan on credit_transactions/);
    expect(await plan(ledgerRowsQuery({ type: 'grant' }, { limit: 50 }))).toContain('credit_transactions_type_idx');
    expect(await plan(ledgerRowsQuery({ provider: 'fal' }, { limit: 50 }))).toContain('credit_transactions_provider_idx');
  });
});
