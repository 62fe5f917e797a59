import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { DomainError } from '../errors';
import { getPool } from './pool-admin';
import { kickRefill } from './refill-kicks';

/**
 * An admin turns a pool's stopped auto-refill back on (after fixing its billing): the failure
 * count and backoff start over, and its open refills (an unknown outcome among them) are kicked
 * to the job runner on commit.
 */
export async function enableAutoRefill(db: DbOrTx, actor: Actor, input: { provider: string; reason: string }) {
  return db.transaction(async (tx) => {
    const before = await getPool(tx, input.provider);
    const row = await queryOne(
      tx,
      z.object({ provider: col.text }),
      sql`update credit_pools set auto_refill_stopped_at = null, refill_failures = 0, refill_backoff_until = null, updated_at = now()
          where provider = ${input.provider} and auto_refill_stopped_at is not null returning provider`,
    );
    if (!row) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `Auto-refill of the ${input.provider} pool is not stopped.`);
    const after = await getPool(tx, input.provider);
    await audit(tx, actor, {
      action: 'pool.auto_refill.enable',
      targetType: 'pool',
      targetId: input.provider,
      before: { autoRefillStoppedAt: before.autoRefillStoppedAt, refillFailures: before.refillFailures, lastRefillError: before.lastRefillError },
      after: { autoRefillStoppedAt: after.autoRefillStoppedAt, refillFailures: after.refillFailures },
      reason: input.reason,
    });
    await kickRefill(tx, input.provider);
    return after;
  });
}
