import type { ReportKind } from '../../shared/reports';
import { addDays } from '../analytics/days';

export type ReportPeriod = { from: string; to: string };

/** The calendar date of `now` in `timeZone`, as 'YYYY-MM-DD'. */
export function localDay(now: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/**
 * The period a report sent at `now` covers: the daily one yesterday, the weekly one the last whole
 * week (Monday to Sunday), both by the calendar of JOBS_TIMEZONE, where the schedule runs. The days
 * themselves are the analytics' UTC days.
 */
export function reportPeriod(kind: ReportKind, now: Date, timeZone: string): ReportPeriod {
  const day = localDay(now, timeZone);
  if (kind === 'daily') return { from: addDays(day, -1), to: addDays(day, -1) };
  const sinceMonday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
  const monday = addDays(day, -sinceMonday);
  return { from: addDays(monday, -7), to: addDays(monday, -1) };
}

/** The same length of time just before `period`: what the weekly trend compares against. */
export const previousPeriod = (p: ReportPeriod): ReportPeriod => {
  const days = (Date.parse(`${p.to}T00:00:00Z`) - Date.parse(`${p.from}T00:00:00Z`)) / 86_400_000 + 1;
  return { from: addDays(p.from, -days), to: addDays(p.to, -days) };
};
