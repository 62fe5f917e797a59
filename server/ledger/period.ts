import { sql } from 'drizzle-orm';

/** Allowances follow calendar months in UTC. */
export const LEDGER_TIME_ZONE = 'UTC';

/** SQL for the start of the month containing `at` (now() when absent). */
export const periodStartSql = (at?: Date) => (at ? sql`date_trunc('month', ${at.toISOString()}::timestamptz, ${LEDGER_TIME_ZONE})` : sql`date_trunc('month', now(), ${LEDGER_TIME_ZONE})`);
