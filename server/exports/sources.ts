import { sql, type SQL } from 'drizzle-orm';
import type { z } from 'zod';
import { exportFilterSchemas, type ExportName } from '../../shared/exports';
import { alertHistoryWhere } from '../alerts/alert-admin';
import { auditRowsQuery } from '../auth/audit-list';
import { isoUtc } from '../db/sql-helpers';
import { ledgerRowsQuery } from '../ledger/ledger-search';
import { userFilterWhere } from '../ledger/user-filter';
import { purchaseRequestWhere } from '../pools/purchase-requests';
import type { CsvValue } from './csv';

type Row = Record<string, unknown>;

/**
 * One CSV export: its filters, its columns, and its query in a keyset order. `query(filter, null,
 * null)` is the whole result (read through a cursor); with `after` and `limit` it is the batch
 * after the row whose `key` is `after` (read page by page where there is no cursor).
 */
export type ExportSource<N extends ExportName = ExportName> = {
  name: N;
  filter: (typeof exportFilterSchemas)[N];
  columns: readonly string[];
  query: (filter: z.output<(typeof exportFilterSchemas)[N]>, after: string | null, limit: number | null) => SQL;
  key: (row: Row) => string;
  values: (row: Row) => CsvValue[];
};

const limitClause = (limit: number | null) => (limit ? sql`limit ${limit}` : sql``);
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
// The queries select scalar columns only (timestamps already as text), never objects.
const text = (v: unknown) => (v === null || v === undefined ? null : `${v as string | number | boolean}`);
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const ledger: ExportSource<'ledger'> = {
  name: 'ledger',
  filter: exportFilterSchemas.ledger,
  columns: [
    'transaction_id',
    'created_at',
    'user_id',
    'email',
    'type',
    'source',
    'credits_used',
    'credits_delta',
    'balance_after',
    'cost_usd',
    'provider',
    'enhancement_type',
    'status',
    'idempotency_key',
    'reservation_id',
    'moodboard_id',
    'reason',
    'actor',
  ],
  query: (f, after, limit) => ledgerRowsQuery(f, { afterId: after, limit }),
  key: (r) => String(r.id),
  values: (r) => [
    text(r.id),
    text(r.created_at),
    text(r.user_id),
    text(r.email),
    text(r.transaction_type),
    text(r.source),
    num(r.credits_used),
    num(r.credits_delta),
    num(r.balance_after),
    text(r.cost_usd),
    text(r.provider),
    text(r.enhancement_type),
    text(r.status),
    text(r.idempotency_key),
    text(r.reservation_id),
    text(r.moodboard_id),
    text(r.reason),
    text(r.actor),
  ],
};

const audit: ExportSource<'audit'> = {
  name: 'audit',
  filter: exportFilterSchemas.audit,
  columns: ['id', 'created_at', 'actor', 'action', 'target_type', 'target_id', 'before', 'after', 'reason'],
  query: (f, after, limit) => auditRowsQuery(f, { afterId: after, limit }),
  key: (r) => String(r.id),
  values: (r) => [text(r.id), text(r.created_at), text(r.actor), text(r.action), text(r.target_type), text(r.target_id), json(r.before), json(r.after), text(r.reason)],
};

const users: ExportSource<'users'> = {
  name: 'users',
  filter: exportFilterSchemas.users,
  columns: ['user_id', 'email', 'tier', 'monthly_allowance', 'allowance_balance', 'bonus_balance', 'balance', 'consumed_this_month', 'lifetime_consumed', 'created_at', 'last_activity'],
  query: (f, after, limit) => sql`
    select u.user_id, u.email, u.tier,
           coalesce(uc.monthly_allowance, 0) as monthly_allowance, coalesce(uc.current_balance, 0) as allowance_balance,
           coalesce(uc.bonus_balance, 0) as bonus_balance, coalesce(uc.current_balance + uc.bonus_balance, 0) as balance,
           coalesce(uc.consumed_this_month, 0) as consumed_this_month, coalesce(uc.lifetime_consumed, 0)::text as lifetime_consumed,
           ${isoUtc(sql`u.created_at`)} as created_at, ${isoUtc(sql`uc.updated_at`)} as last_activity
    from users u left join user_credits uc on uc.user_id = u.user_id
    where ${userFilterWhere({ search: f.search || undefined, tier: f.tier, outOfCredits: f.outOfCredits === 'true' })}
          ${after !== null ? sql`and u.user_id > ${after}` : sql``}
    order by u.user_id ${limitClause(limit)}`,
  key: (r) => String(r.user_id),
  values: (r) => [
    text(r.user_id),
    text(r.email),
    text(r.tier),
    num(r.monthly_allowance),
    num(r.allowance_balance),
    num(r.bonus_balance),
    num(r.balance),
    num(r.consumed_this_month),
    num(r.lifetime_consumed),
    text(r.created_at),
    text(r.last_activity),
  ],
};

const purchaseRequests: ExportSource<'purchase-requests'> = {
  name: 'purchase-requests',
  filter: exportFilterSchemas['purchase-requests'],
  columns: [
    'id',
    'provider',
    'amount_requested',
    'estimated_cost_usd',
    'status',
    'trigger',
    'note',
    'requested_by',
    'requested_at',
    'decided_by',
    'decided_at',
    'decision_reason',
    'completed_at',
    'provider_transaction_id',
    'error_message',
    'attempts',
  ],
  query: (f, after, limit) => sql`
    select id::text as id, provider, amount_requested, estimated_cost::text as estimated_cost, status, trigger, note, requested_by,
           ${isoUtc(sql`requested_at`)} as requested_at, decided_by, ${isoUtc(sql`decided_at`)} as decided_at, decision_reason,
           ${isoUtc(sql`completed_at`)} as completed_at, provider_transaction_id, error_message, attempts
    from credit_purchase_requests
    where ${purchaseRequestWhere(f) ?? sql`true`} ${after !== null ? sql`and id < ${after}::bigint` : sql``}
    order by id desc ${limitClause(limit)}`,
  key: (r) => String(r.id),
  values: (r) => [
    text(r.id),
    text(r.provider),
    num(r.amount_requested),
    text(r.estimated_cost),
    text(r.status),
    text(r.trigger),
    text(r.note),
    text(r.requested_by),
    text(r.requested_at),
    text(r.decided_by),
    text(r.decided_at),
    text(r.decision_reason),
    text(r.completed_at),
    text(r.provider_transaction_id),
    text(r.error_message),
    num(r.attempts),
  ],
};

const alerts: ExportSource<'alerts'> = {
  name: 'alerts',
  filter: exportFilterSchemas.alerts,
  columns: ['id', 'created_at', 'last_seen_at', 'type', 'level', 'status', 'subject', 'message', 'occurrences', 'acknowledged_at', 'acknowledged_by', 'resolved_at', 'resolved_by', 'metadata'],
  query: (f, after, limit) => sql`
    select id::text as id, ${isoUtc(sql`created_at`)} as created_at, ${isoUtc(sql`last_seen_at`)} as last_seen_at, type, level, status,
           subject, message, occurrences, ${isoUtc(sql`acknowledged_at`)} as acknowledged_at, acknowledged_by,
           ${isoUtc(sql`resolved_at`)} as resolved_at, resolved_by, metadata
    from system_alerts
    where ${alertHistoryWhere(f) ?? sql`true`} ${after !== null ? sql`and id < ${after}::bigint` : sql``}
    order by id desc ${limitClause(limit)}`,
  key: (r) => String(r.id),
  values: (r) => [
    text(r.id),
    text(r.created_at),
    text(r.last_seen_at),
    text(r.type),
    text(r.level),
    text(r.status),
    text(r.subject),
    text(r.message),
    num(r.occurrences),
    text(r.acknowledged_at),
    text(r.acknowledged_by),
    text(r.resolved_at),
    text(r.resolved_by),
    json(r.metadata),
  ],
};

export const exportSources: { [N in ExportName]: ExportSource<N> } = { ledger, audit, users, 'purchase-requests': purchaseRequests, alerts };
