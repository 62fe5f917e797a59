import { Counter, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics. Counters and histograms count what this process did (each
 * server and worker process is its own target; Prometheus sums them), so they are module-level,
 * incremented where the thing happened, after it committed. Figures that belong to the whole
 * installation (pool balances, …) are not counted here: they are gauges read from the database at
 * scrape time (see scrape-gauges.ts), right whichever process answers.
 *
 * Another part of the code adds its own counter with `defineCounter` (e.g. outbound webhook
 * deliveries) and a scrape-time reading with `addScrapeCollector` (scrape-gauges.ts).
 */
export const metricsRegistry = new Registry();

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function defineCounter<L extends string>(name: string, help: string, labelNames: readonly L[]) {
  return new Counter<L>({ name, help, labelNames, registers: [metricsRegistry] });
}

export function defineHistogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets = SECONDS) {
  return new Histogram<L>({ name, help, labelNames, buckets, registers: [metricsRegistry] });
}

export const trpcRequests = defineCounter('creditdesk_trpc_requests_total', 'tRPC calls answered, by procedure and HTTP status (each call of a batch counts).', ['procedure', 'status']);
export const trpcDuration = defineHistogram('creditdesk_trpc_request_duration_seconds', 'Time to answer a tRPC request, by procedure and HTTP status.', ['procedure', 'status']);

export const creditsConsumed = defineCounter('creditdesk_credits_consumed_total', 'Credits charged to users (consumptions and captured holds), by source and tier.', ['source', 'tier']);

export const enhancements = defineCounter('creditdesk_enhancements_total', 'Enhancements answered, by the provider that served (none when degraded) and outcome.', ['provider', 'outcome']);
export const providerLatency = defineHistogram(
  'creditdesk_provider_call_duration_seconds',
  'Time of one provider call, by provider and outcome (success or failure).',
  ['provider', 'outcome'],
  [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120],
);

export const jobRuns = defineCounter('creditdesk_job_runs_total', 'Job runs finished in this process, by job and outcome.', ['job', 'outcome']);

export const alertDeliveries = defineCounter('creditdesk_alert_deliveries_total', 'Alert delivery attempts, by channel and outcome (sent, retrying, failed).', ['channel', 'outcome']);

/**
 * Outbound webhook delivery attempts to product apps, by event type and outcome. Defined here so
 * the /metrics document always carries it; the webhook sender increments it per attempt.
 */
export const webhookDeliveries = defineCounter('creditdesk_webhook_deliveries_total', 'Outbound webhook delivery attempts, by event type and outcome.', ['event', 'outcome']);
