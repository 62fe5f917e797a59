import { creditSources, type CreditSource } from '../../shared/credits';
import type { LiveLedgerRow } from '../../shared/live';
import { isDecimalText, safeIntegerOf } from '../db/rows';

/**
 * The live ledger's row decoder. Every charge passes through it once per hub tick, so it checks what
 * `ledgerSqlRow` checks (integers past 2^53 refused, money only as decimal text, a known source) in
 * one pass that builds the row the feeds send, without a zod parse: measured under 200 live
 * subscriptions, the zod parse of each row was the largest part of the server's own garbage
 * (bench/README.md, "live: where the subscriptions' cost goes"). live-ledger-row.test.ts holds
 * it to the same refusals as the zod schema.
 */
export class LedgerRowError extends Error {
  constructor(column: string, value: unknown) {
    super(`credit_transactions.${column}: unexpected value ${String(value)}`);
    this.name = 'LedgerRowError';
  }
}

const SOURCES: ReadonlySet<unknown> = new Set(creditSources);

function text(raw: Record<string, unknown>, column: string): string {
  const v = raw[column];
  if (typeof v !== 'string') throw new LedgerRowError(column, v);
  return v;
}

function textOrNull(raw: Record<string, unknown>, column: string): string | null {
  const v = raw[column];
  return v === null ? null : text(raw, column);
}

function integer(raw: Record<string, unknown>, column: string): number {
  const n = safeIntegerOf(raw[column]);
  if (n === null) throw new LedgerRowError(column, raw[column]);
  return n;
}

function decimalOrNull(raw: Record<string, unknown>, column: string): string | null {
  const v = raw[column];
  if (v === null) return null;
  if (!isDecimalText(v)) throw new LedgerRowError(column, v);
  return v;
}

function id(raw: Record<string, unknown>, column: string): string {
  const v = raw[column];
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return String(v);
  throw new LedgerRowError(column, v);
}

function source(raw: Record<string, unknown>): CreditSource | null {
  const v = raw.source;
  if (v === null) return null;
  if (!SOURCES.has(v)) throw new LedgerRowError('source', v);
  return v as CreditSource;
}

/** One row of the live tail's select (server/realtime/ledger-tail.ts) as the feeds carry it. */
export function decodeLiveLedgerRow(raw: Record<string, unknown>): LiveLedgerRow {
  if (raw.matched_by !== null) throw new LedgerRowError('matched_by', raw.matched_by);
  return {
    transactionId: id(raw, 'id'),
    userId: text(raw, 'user_id'),
    email: textOrNull(raw, 'email'),
    type: text(raw, 'transaction_type'),
    source: source(raw),
    creditsUsed: integer(raw, 'credits_used'),
    creditsDelta: integer(raw, 'credits_delta'),
    balanceAfter: integer(raw, 'balance_after'),
    costUsd: decimalOrNull(raw, 'cost_usd'),
    provider: textOrNull(raw, 'provider'),
    enhancementType: textOrNull(raw, 'enhancement_type'),
    moodboardId: textOrNull(raw, 'moodboard_id'),
    reservationId: textOrNull(raw, 'reservation_id'),
    status: text(raw, 'status'),
    reason: textOrNull(raw, 'reason'),
    actor: textOrNull(raw, 'actor'),
    idempotencyKey: textOrNull(raw, 'idempotency_key'),
    matchedBy: null,
    createdAt: text(raw, 'created_at'),
  };
}
