import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { inferRouterOutputs } from '@trpc/server';
import type { AuditFilter } from '../../../shared/audit';
import type { AppRouter } from '../../../server/trpc/root';
import { formatCount } from '../components/Amount';
import { DateRangeFields } from '../components/DateRangeFields';
import { PageHeader } from '../components/EmptyState';
import { ExportLink } from '../components/ExportLink';
import { useDebouncedValue } from '../components/SearchInput';
import { DataTable } from '../components/DataTable';
import { Pager } from '../components/Pager';
import { dayBound } from '../lib/day-bound';
import { errorMessage } from '../lib/errors';
import { formatDateTime, formatRelative } from '../lib/format';
import { useTRPC } from '../trpc';
import { changeLines } from './audit/change-summary';

const PAGE_SIZE = 50;
type AuditEntry = inferRouterOutputs<AppRouter>['admin']['audit']['list']['rows'][number];
const col = createColumnHelper<AuditEntry>();
const targetTypes = ['user', 'transaction', 'tier', 'pool', 'purchase_request', 'provider', 'alert', 'alert_rule', 'alert_channel', 'api_key', 'admin', 'job', 'settings'];
const actionHints = ['credits.', 'credits.grant', 'credits.adjust', 'credits.refund', 'user.tier', 'tier.update', 'pool.', 'provider.', 'alert.', 'apiKey.', 'admin.', 'job.', 'settings.platform'];

/** Who changed what, when and why: every audited admin change, newest first. */
export function AuditPage() {
  const trpc = useTRPC();
  const [actorText, setActorText] = useState('');
  const [actionText, setActionText] = useState('');
  const [targetType, setTargetType] = useState('');
  const [targetIdText, setTargetIdText] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const actor = useDebouncedValue(actorText.trim(), 300);
  const action = useDebouncedValue(actionText.trim(), 300);
  const targetId = useDebouncedValue(targetIdText.trim(), 300);
  const fromIso = from ? dayBound(from, false) : undefined;
  const toIso = to ? dayBound(to, true) : undefined;
  const rangeError = fromIso && toIso && fromIso > toIso ? '“From” is after “To”' : null;

  const filter: AuditFilter = {
    actor: actor || undefined,
    action: action || undefined,
    targetType: targetType || undefined,
    targetId: targetId || undefined,
    from: fromIso,
    to: toIso,
  };
  const questionKey = JSON.stringify(filter);
  const [paging, setPaging] = useState({ key: questionKey, page: 0 });
  const page = paging.key === questionKey ? paging.page : 0;

  const list = useQuery(trpc.admin.audit.list.queryOptions({ page, pageSize: PAGE_SIZE, ...filter }, { placeholderData: keepPreviousData, enabled: !rangeError }));

  const columns = useMemo(
    () => [
      col.accessor('createdAt', {
        header: 'Time',
        meta: { width: 130 },
        cell: (c) => (
          <time dateTime={c.getValue()} title={formatRelative(c.getValue())}>
            {formatDateTime(c.getValue())}
          </time>
        ),
      }),
      col.accessor('actor', {
        header: 'Who',
        meta: { width: 160 },
        cell: (c) => (
          <span className="cell-ellipsis audit-cell-narrow" title={c.getValue()}>
            {c.getValue()}
          </span>
        ),
      }),
      col.accessor('action', { header: 'Action', meta: { mono: true, width: 150 }, cell: (c) => <span className="strong">{c.getValue()}</span> }),
      col.display({
        id: 'target',
        header: 'Target',
        meta: { width: 150 },
        cell: (c) => {
          const e = c.row.original;
          return (
            <span className="cell-stack">
              <span className="cell-sub">{e.targetType}</span>
              <span className="mono cell-ellipsis audit-cell-narrow" title={e.targetId ?? undefined}>
                {e.targetId ?? '—'}
              </span>
            </span>
          );
        },
      }),
      col.display({
        id: 'change',
        header: 'Before → after',
        meta: { grow: true },
        cell: (c) => {
          const e = c.row.original;
          const lines = changeLines(e.before, e.after);
          if (lines.length === 0) return <span className="muted">—</span>;
          return (
            <span className="audit-change" title={`before: ${JSON.stringify(e.before)}\nafter: ${JSON.stringify(e.after)}`}>
              {lines.map((l) => (
                <span key={l} className="audit-change-line">
                  {l}
                </span>
              ))}
            </span>
          );
        },
      }),
      col.accessor('reason', {
        header: 'Reason',
        meta: { width: 200 },
        cell: (c) =>
          c.getValue() ? (
            <span className="audit-reason" title={c.getValue()!}>
              {c.getValue()}
            </span>
          ) : (
            <span className="muted">—</span>
          ),
      }),
    ],
    [],
  );

  const filtered = !!(actorText.trim() || actionText.trim() || targetType || targetIdText.trim() || from || to);
  const total = list.data?.total;

  return (
    <div className="page page-wide">
      <PageHeader
        title="Audit log"
        description="Every admin change: who made it, to what, the values before and after, and the reason given. Entries are written in the same transaction as the change."
      />
      <section className="section" aria-label="Audit log">
        <div className="toolbar audit-toolbar">
          <label className="toolbar-field">
            <span>Who</span>
            <input value={actorText} onChange={(e) => setActorText(e.target.value)} placeholder="email or cli" aria-label="Actor" spellCheck={false} autoComplete="off" />
          </label>
          <label className="toolbar-field">
            <span>Action</span>
            <input
              value={actionText}
              onChange={(e) => setActionText(e.target.value)}
              placeholder="e.g. pool. or credits.grant"
              aria-label="Action"
              list="audit-actions"
              spellCheck={false}
              autoComplete="off"
            />
            <datalist id="audit-actions">
              {actionHints.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </label>
          <label className="toolbar-field">
            <span>Target</span>
            <select value={targetType} onChange={(e) => setTargetType(e.target.value)} aria-label="Target type">
              <option value="">Any target</option>
              {targetTypes.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <label className="toolbar-field">
            <span>Target ID</span>
            <input value={targetIdText} onChange={(e) => setTargetIdText(e.target.value)} placeholder="user id, pool…" aria-label="Target ID" spellCheck={false} autoComplete="off" />
          </label>
          <DateRangeFields from={from} to={to} onFrom={setFrom} onTo={setTo} invalid={!!rangeError} />
          {filtered && (
            <button
              type="button"
              className="button button-small"
              onClick={() => {
                setActorText('');
                setActionText('');
                setTargetType('');
                setTargetIdText('');
                setFrom('');
                setTo('');
              }}
            >
              Clear
            </button>
          )}
          <span className="toolbar-spacer" />
          <span className="toolbar-total" data-testid="audit-total">
            {total !== undefined ? `${formatCount(total)} entr${total === 1 ? 'y' : 'ies'}${filtered ? ' match' : ''}` : ''}
          </span>
          <ExportLink name="audit" filter={filter} disabled={!!rangeError} />
        </div>
        {rangeError && (
          <div className="alert alert-error" role="alert">
            {rangeError}
          </div>
        )}
        <div className="table-dense">
          <DataTable
            manual
            label="Audit log"
            testId="audit-table"
            columns={columns}
            data={list.data?.rows}
            getRowId={(e) => e.id}
            loading={list.isPending && !rangeError}
            refreshing={list.isPlaceholderData}
            error={list.isError ? errorMessage(list.error) : null}
            emptyMessage={filtered ? 'No audit entries match these filters.' : 'No admin changes have been made yet.'}
          />
        </div>
        <Pager page={page} pageSize={PAGE_SIZE} total={total} onPage={(p) => setPaging({ key: questionKey, page: p })} noun="entries" />
      </section>
    </div>
  );
}
