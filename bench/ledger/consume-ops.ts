import type { Sql } from 'postgres';
import type { Db } from '../../server/db/client';
import { consumeCredits } from '../../server/ledger/consume';
import type { JsonPoster } from '../lib/http-client';
import type { Op } from '../lib/load';
import { consumeStatement } from '../http/ops';
import { nextKey } from '../lib/keys';

/**
 * The raw-SQL floor: the statement consumeCredits issues in its common case — the conditional debit
 * and its ledger entry as data-modifying CTEs in one statement, compiled from the app's own builder
 * — issued directly with postgres.js, prepared unless the client was opened with `prepare: false`.
 */
export const floorOp =
  (sql: Sql, userIds: string[]): Op =>
  async (client) => {
    await consumeStatement(sql, userIds[client]!, sql.options.prepare);
  };

/** consumeCredits called in this process on a drizzle database over postgres.js. */
export const inProcessOp =
  (db: Db, userIds: string[]): Op =>
  async (client) => {
    const result = await consumeCredits(db, { userId: userIds[client]!, credits: 1, enhancementType: 'upscale', idempotencyKey: nextKey() });
    if (result.source !== 'user_credits') throw new Error(`in-process: unexpected source ${result.source}`);
  };

/** POST /trpc/credits.consume on the real server with an API key. */
export const httpOp =
  (poster: JsonPoster, userIds: string[]): Op =>
  async (client) => {
    const res = await poster.post('/trpc/credits.consume', {
      userId: userIds[client]!,
      credits: 1,
      enhancementType: 'upscale',
      idempotencyKey: nextKey(),
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  };
