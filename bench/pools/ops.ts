import type { Sql } from 'postgres';
import type { Db } from '../../server/db/client';
import { consumeCredits } from '../../server/ledger/consume';
import { captureReservation } from '../../server/ledger/capture-reservation';
import { drawFromPool } from '../../server/pools/draw';
import { claimEnhancement } from '../../server/providers/enhancement-claims';
import { openEnhancement } from '../../server/providers/open-enhancement';
import { nextKey } from '../lib/keys';
import type { Op } from '../lib/load';

/** The floor's own one-row pool and its ledger (a copy of credit_pool_transactions with its indexes). */
export async function createHotRowTables(sql: Sql, balance: number): Promise<void> {
  await sql`create table bench_hot_pool (id int primary key, balance bigint not null check (balance >= 0))`;
  await sql`insert into bench_hot_pool values (1, ${balance})`;
  await sql`create table bench_hot_pool_tx (like credit_pool_transactions including all)`;
  await sql`vacuum analyze bench_hot_pool`;
}

/**
 * The raw-SQL single-hot-row floor: a plain conditional UPDATE of one row and the INSERT of its
 * ledger row in one transaction, with postgres.js (prepared statements). Every client queues on the row.
 */
export const hotRowFloorOp =
  (sql: Sql): Op =>
  async () => {
    await sql.begin(async (tx) => {
      const [row] = await tx`update bench_hot_pool set balance = balance - 1 where id = 1 and balance >= 1 returning balance`;
      if (!row) throw new Error('floor: the hot row ran out');
      await tx`
        insert into bench_hot_pool_tx (provider, transaction_type, credits_delta, stripe, stripe_balance_after, cost_usd)
        values ('bench-hot', 'consumption', -1, 0, ${row.balance as string}, '0.039000')`;
    });
  };

/** consumeCredits on the client's own user (its allowance): the common case, one statement. */
export const consumeOp =
  (db: Db, userIds: string[]): Op =>
  async (client) => {
    const r = await consumeCredits(db, { userId: userIds[client]!, credits: 1, enhancementType: 'upscale', idempotencyKey: nextKey('consume') });
    if (r.source !== 'user_credits') throw new Error(`consume: unexpected source ${r.source}`);
  };

/** drawFromPool in its own transaction and nothing else, as the gateway draws before a provider call. */
export const drawOp =
  (db: Db, providerOf: (client: number) => string): Op =>
  async (client) => {
    const drawn = await db.transaction((tx) => drawFromPool(tx, providerOf(client), 1));
    if (!drawn) throw new Error(`draw: the ${providerOf(client)} pool could not pay`);
  };

/**
 * The ledger work of one enhance.run that a provider serves, as the gateway does it: the opening
 * (openEnhancement: the hold, its attach to the enhancement's claim and the first provider's pool
 * drawn, one statement in the common case; drawFromPool after it when that draw could not be made
 * there, as attemptProvider does), then the capture recording the cost drawn — without the HTTP,
 * the claim's insert and the provider call around it. Each client attaches its holds to a claim of
 * its own, made once. `source` is what the hold must come from (platform_pool: an overflow).
 */
export const requestPathOp = (db: Db, userIds: string[], providerOf: (client: number) => string, source: 'user_credits' | 'platform_pool'): Op => {
  const claims = new Map<number, number>();
  const claimOf = async (client: number) => {
    let id = claims.get(client);
    if (id === undefined) {
      const claim = await claimEnhancement(db, nextKey('claim'), 'f'.repeat(32), userIds[client]!, { waitMs: 0, staleAfterMs: 60_000 });
      if (claim.kind !== 'claimed') throw new Error('request path: expected a fresh claim');
      id = claim.id;
      claims.set(client, id);
    }
    return id;
  };
  return async (client) => {
    const provider = providerOf(client);
    const request = { userId: userIds[client]!, credits: 1, enhancementType: 'upscale' as const, idempotencyKey: nextKey('reserve'), ttlSeconds: 300, claimId: await claimOf(client) };
    const { hold, drawn: drawnInHold } = await openEnhancement(db, request, provider);
    if (hold.source !== source) throw new Error(`request path: hold from ${hold.source}, expected ${source}`);
    const drawn = drawnInHold ?? (await drawFromPool(db, provider, 1, { reservationId: hold.reservationId }));
    if (!drawn) throw new Error(`request path: the ${provider} pool could not pay`);
    await captureReservation(db, { reservationId: hold.reservationId, provider, apiRequestId: hold.reservationId }, { drawn: { costUsd: drawn.costUsd } });
  };
};

/**
 * drawFromPool with no transaction around it: its common case (a free stripe and its pool ledger
 * entry) is one statement, atomic on its own, as consumeCredits' common case is.
 */
export const oneStatementDrawOp =
  (db: Db, providerOf: (client: number) => string): Op =>
  async (client) => {
    const provider = providerOf(client);
    const drawn = await drawFromPool(db, provider, 1);
    if (!drawn) throw new Error(`draw: the ${provider} pool could not pay`);
  };
