import { z } from 'zod';
import { reportSchedules } from '../reports/report-settings';
import { runScheduledReport } from '../reports/send-report';
import { defineJob, type JobDefinition } from './job-definition';

/** `asOf`: the moment the report is "sent" at (a manual run for an earlier period); now by default. */
const payload = z.object({ asOf: z.iso.datetime({ offset: true }).optional() }).strict();

export const reportJobs: JobDefinition[] = [
  defineJob({
    name: 'daily-report',
    description: "Sends yesterday's report to the recipients set on the Alerts page (once per day, however many workers).",
    schedule: reportSchedules.daily,
    payload,
    attempts: 3,
    run: (deps, p) => runScheduledReport(deps.dbHandle.db, deps, 'daily', p.asOf ? new Date(p.asOf) : new Date()),
  }),
  defineJob({
    name: 'weekly-report',
    description: "Sends last week's report, with the trend against the week before (once per week).",
    schedule: reportSchedules.weekly,
    payload,
    attempts: 3,
    run: (deps, p) => runScheduledReport(deps.dbHandle.db, deps, 'weekly', p.asOf ? new Date(p.asOf) : new Date()),
  }),
];
