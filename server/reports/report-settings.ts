import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { reportKinds, type ReportKind, type ReportSettingsInput, type ReportSettingsView } from '../../shared/reports';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { reportSettings } from './tables';

export const reportSchedules: Record<ReportKind, string> = { daily: '0 8 * * *', weekly: '0 8 * * 1' };

export async function getReportSettings(db: DbOrTx, kind: ReportKind): Promise<ReportSettingsInput> {
  const [row] = await db.select().from(reportSettings).where(eq(reportSettings.kind, kind));
  return { kind, enabled: row?.enabled ?? false, slack: row?.slack ?? false, emailTo: row?.emailTo ?? [] };
}

const lastRunRow = z.object({ period_start: col.text, period_end: col.text, sent_at: col.textOrNull, status: col.text });

async function view(db: DbOrTx, kind: ReportKind): Promise<ReportSettingsView> {
  const last = await queryOne(
    db,
    lastRunRow,
    sql`select period_start::text, period_end::text, to_char(sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as sent_at, status
        from report_runs where kind = ${kind} order by period_start desc limit 1`,
  );
  return {
    ...(await getReportSettings(db, kind)),
    schedule: reportSchedules[kind],
    lastSent: last ? { periodStart: last.period_start, periodEnd: last.period_end, sentAt: last.sent_at, status: last.status } : null,
  };
}

export const listReportSettings = (db: DbOrTx) => Promise.all(reportKinds.map((k) => view(db, k)));

/** Saves who gets a report, audited. */
export async function updateReportSettings(db: DbOrTx, actor: Actor, input: ReportSettingsInput): Promise<ReportSettingsView> {
  return db.transaction(async (tx) => {
    const before = await getReportSettings(tx, input.kind);
    const values = { enabled: input.enabled, slack: input.slack, emailTo: input.emailTo, updatedAt: sql`now()` };
    await tx
      .insert(reportSettings)
      .values({ kind: input.kind, ...values })
      .onConflictDoUpdate({ target: reportSettings.kind, set: values });
    await audit(tx, actor, { action: 'report.settings.update', targetType: 'report', targetId: input.kind, before, after: input });
    return view(tx, input.kind);
  });
}
