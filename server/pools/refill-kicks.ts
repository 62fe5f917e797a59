import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { DbHandle, DbOrTx } from '../db/client';
import type { JobRunner } from '../jobs/runner';

const CHANNEL = 'creditdesk_refill';

/**
 * Asks for the auto-refill job to run for this pool as soon as the caller's transaction commits
 * (a NOTIFY is delivered on commit and dropped on rollback). Raised from deep inside draws, which
 * have no job runner at hand; a notice nobody hears is picked up by the 5-minute schedule.
 */
export async function kickRefill(db: DbOrTx, provider: string): Promise<void> {
  await db.execute(sql`select pg_notify(${CHANNEL}, ${provider})`);
}

/**
 * Enqueues the auto-refill job for each kick (one per refill created or re-enabled, so they are
 * few). Two runs for one pool are harmless: a request is bought under its claim, once.
 */
// Not Pick<AppDeps, ...>: draws import this file, and AppDeps imports the gateway that draws.
export async function listenForRefillKicks(deps: { dbHandle: DbHandle; jobs: Pick<JobRunner, 'enqueue'>; log: Logger }): Promise<() => Promise<void>> {
  return deps.dbHandle.listen(CHANNEL, (provider) => {
    deps.jobs.enqueue('auto-refill', { provider }, { trigger: 'demand' }).catch((err: unknown) => deps.log.error({ err, provider }, 'could not enqueue the auto-refill job; the schedule will run it'));
  });
}
