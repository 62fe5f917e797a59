import { z } from 'zod';
import { deleteExpiredSessions } from '../auth/sessions';
import { expireGrants } from '../ledger/grant-expiry';
import { allocateMonthlyCredits } from '../ledger/monthly-reset';
import { expireReservations } from '../ledger/release-reservation';
import { providerNameSchema } from '../../shared/pools';
import { requestDueRefills } from '../pools/auto-refill';
import { checkProviderBalances } from '../pools/provider-balance-check';
import { processApprovedRefills } from '../pools/refill-purchase';
import { defineJob, type JobDefinition } from './job-definition';
import { deleteOldJobRuns } from './job-runs';
import { checkAllProviders } from './provider-health';

const none = z.object({}).strict();

/** Every recurring task and its schedule (the seed's, plus the ones the ledger and pools need). */
export const coreJobs: JobDefinition[] = [
  defineJob({
    name: 'reset-monthly-credits',
    description: 'Gives every user their tier allowance for the new month (set-based, once per month).',
    schedule: '0 0 1 * *',
    payload: none,
    attempts: 5,
    run: (deps) => allocateMonthlyCredits(deps.dbHandle.db),
  }),
  defineJob({
    name: 'provider-health-check',
    description: 'Checks every active provider; an unhealthy one raises an error alert.',
    schedule: '*/5 * * * *',
    payload: none,
    attempts: 1,
    run: (deps) => checkAllProviders(deps),
  }),
  defineJob({
    name: 'expire-reservations',
    description: 'Releases holds past their expiry and removes expired bonus grants.',
    schedule: '* * * * *',
    payload: none,
    attempts: 3,
    run: async (deps) => ({
      holdsReleased: await expireReservations(deps.dbHandle.db),
      grantsExpired: await expireGrants(deps.dbHandle.db),
    }),
  }),
  defineJob({
    name: 'auto-refill',
    description:
      'Asks for the refill of every pool at or below its threshold that has none open (past its backoff, within the budget or waiting for approval), then buys approved refills through the http billing adapter and settles unknown outcomes (enqueued on demand for one pool).',
    schedule: '*/5 * * * *',
    payload: z.object({ provider: providerNameSchema.optional() }).strict(),
    attempts: 3,
    run: async (deps, payload) => ({
      requested: (await requestDueRefills(deps.dbHandle.db, payload.provider)).length,
      processed: await processApprovedRefills(deps.dbHandle.db, deps, payload.provider),
    }),
  }),
  defineJob({
    name: 'provider-balance-check',
    description: 'Compares each http-billed pool with the balance its provider reports.',
    schedule: '0 3 * * *',
    payload: none,
    attempts: 2,
    run: (deps) => checkProviderBalances(deps.dbHandle.db, deps.secrets, deps.outbound),
  }),
  defineJob({
    name: 'cleanup-sessions',
    description: 'Deletes expired admin sessions and job run records older than 30 days.',
    schedule: '30 2 * * *',
    payload: none,
    attempts: 2,
    run: async (deps) => ({
      sessions: await deleteExpiredSessions(deps.dbHandle.db),
      jobRuns: await deleteOldJobRuns(deps.dbHandle.db, 30),
    }),
  }),
  defineJob({
    name: 'cleanup-media',
    description: 'Deletes images under /media older than MEDIA_RETENTION_DAYS.',
    schedule: '45 2 * * *',
    payload: none,
    attempts: 2,
    run: (deps) => deps.gateway.media.removeOlderThan(new Date(Date.now() - deps.config.MEDIA_RETENTION_DAYS * 86_400_000)),
  }),
];
