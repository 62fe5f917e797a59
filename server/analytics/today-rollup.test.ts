import { sql, type SQL } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { countRow, queryOne, queryRows } from '../db/rows';
import { consumeCredits } from '../ledger/consume';
import { captureReservation } from '../ledger/capture-reservation';
import { releaseReservation } from '../ledger/release-reservation';
import { reserveCredits } from '../ledger/reserve-credits';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser, setAllowanceBalance } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { breakdownRows, summaryRows } from './day-aggregates';
import { addDays, today } from './days';
import { dayBreakdownFromRollup, daySummaryFromRollup, rolledThrough, ROLLUP_BUCKET_MINUTES, ROLLUP_GRACE_SECONDS, rollUpDay } from './today-rollup';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await expectPoolsClean(env.deps.dbHandle.db);
});
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;

/** Dates a user's newest ledger entry at `instant`, as if it had been written then. */
const dateNewest = (userId: string, instant: string) =>
  db().execute(sql`update credit_transactions set created_at = ${instant}::timestamptz where id = (select max(id) from credit_transactions where user_id = ${userId})`);

const failedCall = (provider: string, instant: string) =>
  db().execute(sql`insert into provider_calls (provider, request_id, outcome, created_at) values (${provider}, ${uniqueId('req')}, 'failure', ${instant}::timestamptz)`);

/**
 * A day's requests across its quarter-hours, edges included: consumptions from the allowance and
 * from the platform pool, captures by two providers with costs, a released hold, failed calls.
 */
async function seedDay(day: string) {
  const provider = uniqueId('prov').toLowerCase();
  await seedPool(env.deps, 100);
  const plus = await newUser(db(), 'plus');
  const pro = await newUser(db(), 'pro');
  const over = await newUser(db(), 'pro');
  await setAllowanceBalance(db(), over, 0);
  const instants = ['00:00:00', '00:14:59.999', '00:15:00', '09:59:59.999', '10:00:00', '10:07:30', '10:15:00', '13:44:59', '23:59:59.999'].map((t) => `${day}T${t}Z`);
  for (const [i, instant] of instants.entries()) {
    const user = [plus, pro, over][i % 3]!;
    await consumeCredits(db(), { userId: user, credits: 1 + (i % 2), enhancementType: i % 2 ? 'upscale' : 'denoise', idempotencyKey: key() });
    await dateNewest(user, instant);
    if (user === over) continue;
    const hold = await reserveCredits(db(), { userId: user, credits: 1, enhancementType: 'color', idempotencyKey: key() });
    await dateNewest(user, instant);
    if (i % 3 === 1) {
      await releaseReservation(db(), { reservationId: hold.reservationId, reason: 'the provider failed' });
      await failedCall(provider, instant);
    } else {
      await captureReservation(db(), { reservationId: hold.reservationId, provider: i % 2 ? provider : `${provider}-b`, apiRequestId: uniqueId('req') }, { drawn: { costUsd: `0.0${i}9000` } });
    }
    await dateNewest(user, instant);
  }
  // Just outside the day on both sides: counted on their own days, never here.
  await consumeCredits(db(), { userId: plus, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
  await dateNewest(plus, `${addDays(day, -1)}T23:59:59.999Z`);
  await failedCall(provider, `${addDays(day, 1)}T00:00:00Z`);
}

const rows = async (q: SQL) => queryRows(db(), z.record(z.string(), z.unknown()), q);
const fullSummary = async (day: string) => (await rows(sql`select * from (${summaryRows(day, day)}) s`)).map(({ active_users: _distinct, ...r }) => r);
const rolledSummary = async (day: string) => rows(sql`select * from (${daySummaryFromRollup(day, await rolledThrough(db(), day))}) s`);
const sorted = (q: SQL) => sql`select * from (${q}) b order by dimension, value`;

async function expectSameAsFullRecount(day: string) {
  const full = await fullSummary(day);
  expect(full).toHaveLength(1);
  expect(await rolledSummary(day)).toEqual(full);
  expect(await rows(sorted(dayBreakdownFromRollup(day, await rolledThrough(db(), day))))).toEqual(await rows(sorted(breakdownRows(day, day))));
}

const buckets = async (day: string) =>
  (
    await queryOne(
      db(),
      countRow,
      sql`select count(*)::int as n from usage_rollup_buckets where bucket_start >= (${day}::date)::timestamp at time zone 'UTC' and bucket_start < ((${day}::date) + 1)::timestamp at time zone 'UTC'`,
    )
  )?.n;

describe('[ANALYTICS] a day read from its rolled quarter-hours plus the ledger after them', () => {
  it('equals a full recount of the ledger before, during and after the roll-up, and a second roll-up rolls nothing', async () => {
    const day = '2026-09-03';
    await seedDay(day);
    await expectSameAsFullRecount(day);

    expect(await rollUpDay(db(), day)).toBe((24 * 60) / ROLLUP_BUCKET_MINUTES);
    expect(await rollUpDay(db(), day)).toBe(0);
    await expectSameAsFullRecount(day);

    // Rolled only up to 10:00 (as at 10:02 on the day): the buckets before it, the ledger after.
    await db().execute(sql`delete from usage_rollup_buckets where bucket_start >= ${`${day}T10:00:00Z`}::timestamptz and bucket_start < ${`${day}T23:59:00Z`}::timestamptz`);
    await db().execute(sql`delete from usage_rollup_buckets where bucket_start = ${`${day}T23:45:00Z`}::timestamptz`);
    await expectSameAsFullRecount(day);
  });

  it('a gap in the rolled buckets is read from the ledger, never counted twice or skipped', async () => {
    const day = '2026-09-04';
    await seedDay(day);
    await rollUpDay(db(), day);
    await db().execute(sql`delete from usage_rollup_buckets where bucket_start = ${`${day}T10:00:00Z`}::timestamptz`);
    await expectSameAsFullRecount(day);
    // The first bucket missing too: nothing rolled runs from the day's start.
    await db().execute(sql`delete from usage_rollup_buckets where bucket_start = ${`${day}T00:00:00Z`}::timestamptz`);
    await expectSameAsFullRecount(day);
  });

  it('today, only quarter-hours that closed the grace period ago are rolled; a day with nothing has no summary row', async () => {
    const now = today();
    const rolled = await rollUpDay(db(), now);
    const closed = await queryOne(
      db(),
      countRow,
      sql`select floor(extract(epoch from now() - make_interval(secs => ${ROLLUP_GRACE_SECONDS}) - (${now}::date)::timestamp at time zone 'UTC') / (${ROLLUP_BUCKET_MINUTES} * 60))::int as n`,
    );
    expect(await buckets(now)).toBe(Math.max(0, closed!.n));
    expect(rolled).toBeLessThanOrEqual(Math.max(0, closed!.n));
    expect(await rolledSummary('2026-08-01')).toEqual([]);
    expect(await fullSummary('2026-08-01')).toEqual([]);
  });

  it('rolling a day drops the buckets from before the day before it', async () => {
    const day = '2026-09-10';
    await rollUpDay(db(), addDays(day, -2));
    await rollUpDay(db(), addDays(day, -1));
    expect(await buckets(addDays(day, -2))).toBe(96);
    await rollUpDay(db(), day);
    expect(await buckets(addDays(day, -2))).toBe(0);
    expect(await buckets(addDays(day, -1))).toBe(96);
    expect(await buckets(day)).toBe(96);
  });
});
