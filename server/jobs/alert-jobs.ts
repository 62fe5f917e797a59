import { z } from 'zod';
import { checkCreditThresholds } from '../alerts/credit-thresholds';
import { runAlertDispatch } from '../alerts/alert-service';
import { runWebhookDispatch } from '../webhooks/dispatch';
import { defineJob, type JobDefinition } from './job-definition';

export const alertJobs: JobDefinition[] = [
  defineJob({
    name: 'check-credit-thresholds',
    description: 'Raises alerts for low pools, pools mostly used and many paying users out of credits; resolves those that cleared.',
    schedule: '*/15 * * * *',
    payload: z.object({}).strict(),
    attempts: 3,
    run: async (deps) => ({ raised: (await checkCreditThresholds(deps.dbHandle.db)).map((a) => `${a.type}:${a.subject}`) }),
  }),
  defineJob({
    name: 'deliver-alerts',
    description: 'Sends new, reminder-due and resolved alerts to their channels (unless silenced) and sends or retries due deliveries.',
    // Seconds field: alerts should leave within half a minute of being raised.
    schedule: '*/30 * * * * *',
    payload: z.object({}).strict(),
    attempts: 1,
    run: (deps) => runAlertDispatch(deps.dbHandle.db, deps),
  }),
  defineJob({
    name: 'deliver-webhooks',
    description: 'Sends new and retry-due webhook events to product apps (signed, at least once, backoff up to 24 h).',
    schedule: '*/10 * * * * *',
    payload: z.object({}).strict(),
    attempts: 1,
    run: (deps) => runWebhookDispatch(deps.dbHandle.db, { ...deps, timeoutMs: deps.config.WEBHOOK_TIMEOUT_SECONDS * 1000 }),
  }),
];
