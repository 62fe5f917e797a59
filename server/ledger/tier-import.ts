import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { tierSchema, type Tier } from '../../shared/enums';
import { TIER_IMPORT_MAX_ROWS, tierImportRowSchema, type TierImportPreview } from '../../shared/users';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';
import { DomainError } from '../errors';
import { changeTier } from './admin-ops';
import { parseCsv, type CsvRow } from './csv-rows';
import { periodStartSql } from './period';

/** The id column may be called any of these (the product's "external id"); else the first column is it. */
const ID_HEADERS = new Set(['userid', 'user_id', 'user', 'id', 'externalid', 'external_id', 'external id']);

type Parsed = { line: number; userId: string; tier: Tier };

/** Rows checked one by one with the shared zod schema: valid ones, and why each other one is not. */
function readRows(csv: string) {
  let rows: CsvRow[] = parseCsv(csv);
  let idCol = 0;
  let tierCol = 1;
  const header = rows[0]?.cells.map((c) => c.trim().toLowerCase());
  if (header?.includes('tier')) {
    tierCol = header.indexOf('tier');
    idCol = Math.max(
      0,
      header.findIndex((h) => ID_HEADERS.has(h)),
    );
    rows = rows.slice(1);
  }
  if (rows.length > TIER_IMPORT_MAX_ROWS) {
    throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The CSV has ${rows.length.toLocaleString('en-US')} rows; import at most ${TIER_IMPORT_MAX_ROWS.toLocaleString('en-US')} at a time.`);
  }
  const valid: Parsed[] = [];
  const invalid: TierImportPreview['invalid'] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const text = row.text.slice(0, 200);
    const parsed = tierImportRowSchema.safeParse({ userId: row.cells[idCol] ?? '', tier: (row.cells[tierCol] ?? '').trim().toLowerCase() });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const message = issue.path[0] === 'tier' ? `tier must be free, plus or pro (got "${(row.cells[tierCol] ?? '').trim().slice(0, 40)}")` : issue.message;
      invalid.push({ line: row.line, text, message: message[0]!.toUpperCase() + message.slice(1) });
      continue;
    }
    const earlier = seen.get(parsed.data.userId);
    if (earlier !== undefined) {
      invalid.push({ line: row.line, text, message: `${parsed.data.userId} is already on line ${earlier}` });
      continue;
    }
    seen.set(parsed.data.userId, row.line);
    valid.push({ line: row.line, ...parsed.data });
  }
  return { rows: rows.length, valid, invalid };
}

/**
 * What importing the CSV would do, read from the database as it is now: the rows that change a
 * tier (with the allowance after, by the tier-change rule of ADR 005: `max(0, new allowance −
 * spent this month)`, a user due for the monthly reset counting nothing spent), the rows that
 * change nothing, unknown users and invalid rows. Writes nothing.
 */
export async function previewTierImport(db: DbOrTx, csv: string): Promise<TierImportPreview> {
  const { rows, valid, invalid } = readRows(csv);
  const known = new Map<string, { tier: Tier; allowance: number; spent: number }>();
  if (valid.length) {
    const found = await queryRows(
      db,
      z.object({ user_id: col.text, tier: tierSchema, current_balance: col.integer, spent: col.integer }),
      sql`select uc.user_id, uc.subscription_tier as tier, uc.current_balance,
                 case when uc.last_reset_at < ${periodStartSql()} then 0 else uc.allowance_spent_this_period end as spent
          from jsonb_array_elements_text(${JSON.stringify(valid.map((v) => v.userId))}::jsonb) as ids(id)
          join user_credits uc on uc.user_id = ids.id`,
    );
    for (const f of found) known.set(f.user_id, { tier: f.tier, allowance: f.current_balance, spent: f.spent });
  }
  const allowances = new Map(
    (await queryRows(db, z.object({ tier: tierSchema, monthly_credits: col.integer }), sql`select tier, monthly_credits from tier_allowances`)).map((t) => [t.tier, t.monthly_credits]),
  );
  const preview: TierImportPreview = { rows, changes: [], unchanged: 0, unknown: [], invalid };
  for (const v of valid) {
    const user = known.get(v.userId);
    if (!user) preview.unknown.push({ line: v.line, userId: v.userId });
    else if (user.tier === v.tier) preview.unchanged++;
    else {
      preview.changes.push({
        line: v.line,
        userId: v.userId,
        fromTier: user.tier,
        toTier: v.tier,
        allowanceBefore: user.allowance,
        allowanceAfter: Math.max(0, (allowances.get(v.tier) ?? 0) - user.spent),
      });
    }
  }
  return preview;
}

/**
 * Applies the tier changes of the CSV in one transaction, each by changeTier (the same rule, entry
 * and audit as a change on the user's panel); unknown users and invalid rows are skipped, as the
 * preview showed. Importing the same CSV again changes nothing.
 */
export async function applyTierImport(db: DbOrTx, actor: Actor, input: { csv: string; reason: string }) {
  return db.transaction(async (tx) => {
    const preview = await previewTierImport(tx, input.csv);
    // In id order, as every multi-user change locks its rows.
    const changes = [...preview.changes].sort((a, b) => (a.userId < b.userId ? -1 : 1));
    for (const c of changes) await changeTier(tx, actor, { userId: c.userId, tier: c.toTier, reason: input.reason });
    const result = { changed: changes.length, unchanged: preview.unchanged, unknown: preview.unknown.length, invalid: preview.invalid.length };
    await audit(tx, actor, { action: 'user.tier_import', targetType: 'user', targetId: null, after: result, reason: input.reason });
    return result;
  });
}
