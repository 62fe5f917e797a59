import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useId, useMemo, useState } from 'react';
import { alertTypeSchema, knownAlertTypes, type AlertLevelName } from '../../../../shared/alerts';
import { formatCount } from '../../components/Amount';
import { DateRangeFields } from '../../components/DateRangeFields';
import { ExportLink } from '../../components/ExportLink';
import { useDebouncedValue } from '../../components/SearchInput';
import { DataTable } from '../../components/DataTable';
import { Pager } from '../../components/Pager';
import { dayBound } from '../../lib/day-bound';
import { errorMessage } from '../../lib/errors';
import { useTRPC } from '../../trpc';
import { AlertStatusBadge, LevelBadge, levelsBySeverity, Occurrences, When, type AlertStatus, type AlertView } from './badges';

const PAGE_SIZE = 50;
const col = createColumnHelper<AlertView>();

/** Every alert ever raised, newest first, paged and filtered on the server. */
export function HistorySection({ selectedId, onOpen }: { selectedId: string | null; onOpen: (alert: AlertView) => void }) {
  const trpc = useTRPC();
  const id = useId();
  const [level, setLevel] = useState<AlertLevelName | 'all'>('all');
  const [status, setStatus] = useState<AlertStatus | 'all'>('all');
  const [typeText, setTypeText] = useState('');
  const type = useDebouncedValue(typeText.trim(), 300);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');

  const typeCheck = type ? alertTypeSchema.safeParse(type) : null;
  const typeError = typeCheck && !typeCheck.success ? (typeCheck.error.issues[0]?.message ?? 'Not an alert type') : null;
  const fromIso = from ? dayBound(from, false) : undefined;
  const toIso = to ? dayBound(to, true) : undefined;
  const rangeError = fromIso && toIso && fromIso > toIso ? '“From” is after “To”' : null;

  // A new question starts at its first page.
  const questionKey = JSON.stringify([level, status, type, from, to]);
  const [paging, setPaging] = useState({ key: questionKey, page: 0 });
  const page = paging.key === questionKey ? paging.page : 0;

  const history = useQuery(
    trpc.admin.alerts.history.queryOptions(
      {
        page,
        pageSize: PAGE_SIZE,
        level: level === 'all' ? undefined : level,
        status: status === 'all' ? undefined : status,
        type: type && !typeError ? type : undefined,
        from: fromIso,
        to: toIso,
      },
      { placeholderData: keepPreviousData, refetchInterval: 30_000, enabled: !typeError && !rangeError },
    ),
  );

  const columns = useMemo(
    () => [
      col.accessor('level', { header: 'Level', meta: { width: 72 }, cell: (c) => <LevelBadge level={c.getValue()} /> }),
      col.accessor('type', { header: 'Type', meta: { mono: true, width: 150 }, cell: (c) => <span className="strong">{c.getValue()}</span> }),
      col.accessor('subject', {
        header: 'Subject',
        meta: { width: 130 },
        cell: (c) =>
          c.getValue() ? (
            <span className="cell-ellipsis alerts-subject-cell" title={c.getValue()}>
              {c.getValue()}
            </span>
          ) : (
            <span className="muted">—</span>
          ),
      }),
      col.accessor('message', { header: 'Message', meta: { grow: true }, cell: (c) => <span title={c.getValue()}>{c.getValue()}</span> }),
      col.accessor('occurrences', { header: 'Seen', meta: { align: 'right', width: 52 }, cell: (c) => <Occurrences n={c.getValue()} /> }),
      col.accessor('createdAt', { header: 'Raised', meta: { width: 82 }, cell: (c) => <When iso={c.getValue()} /> }),
      col.accessor('lastSeenAt', { header: 'Last seen', meta: { width: 82 }, cell: (c) => <When iso={c.getValue()} /> }),
      col.accessor('status', { header: 'Status', meta: { width: 104 }, cell: (c) => <AlertStatusBadge alert={c.row.original} /> }),
      col.display({
        id: 'closedBy',
        header: 'Handled by',
        meta: { width: 130 },
        cell: (c) => {
          const a = c.row.original;
          const by = a.resolvedBy ?? a.acknowledgedBy;
          const at = a.resolvedAt ?? a.acknowledgedAt;
          return by ? (
            <span className="cell-stack">
              <span className="cell-ellipsis cell-narrow" title={by}>
                {by}
              </span>
              <span className="cell-sub">
                <When iso={at} />
              </span>
            </span>
          ) : (
            <span className="muted">—</span>
          );
        },
      }),
    ],
    [],
  );

  const filtered = level !== 'all' || status !== 'all' || !!typeText.trim() || !!from || !!to;
  const total = history.data?.total;

  return (
    <section className="section" aria-label="Alert history">
      <div className="toolbar alerts-toolbar">
        <label className="toolbar-field">
          <span>Level</span>
          <select value={level} onChange={(e) => setLevel(e.target.value as AlertLevelName | 'all')} aria-label="History level">
            <option value="all">All levels</option>
            {levelsBySeverity.map((l) => (
              <option key={l} value={l}>
                {l[0]!.toUpperCase() + l.slice(1)}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-field">
          <span>Type</span>
          <input
            className="alerts-type-input"
            list={`${id}-types`}
            value={typeText}
            placeholder="any type"
            spellCheck={false}
            autoComplete="off"
            aria-label="History type"
            aria-invalid={!!typeError}
            title={typeError ?? undefined}
            onChange={(e) => setTypeText(e.target.value)}
          />
          <datalist id={`${id}-types`}>
            {knownAlertTypes.map((t) => (
              <option key={t} value={t} />
            ))}
            <option value="channel_test" />
          </datalist>
        </label>
        <label className="toolbar-field">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as AlertStatus | 'all')} aria-label="History status">
            <option value="all">All statuses</option>
            <option value="open">Open</option>
            <option value="acknowledged">Acknowledged</option>
            <option value="resolved">Resolved</option>
          </select>
        </label>
        <DateRangeFields from={from} to={to} onFrom={setFrom} onTo={setTo} invalid={!!rangeError} labelPrefix="History" />
        {filtered && (
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              setLevel('all');
              setStatus('all');
              setTypeText('');
              setFrom('');
              setTo('');
            }}
          >
            Clear
          </button>
        )}
        <span className="toolbar-spacer" />
        <span className="toolbar-total" data-testid="history-total">
          {total !== undefined ? `${formatCount(total)} alert${total === 1 ? '' : 's'}${filtered ? ' match' : ''}` : ''}
        </span>
        <ExportLink
          name="alerts"
          filter={{ level: level === 'all' ? undefined : level, status: status === 'all' ? undefined : status, type: type && !typeError ? type : undefined, from: fromIso, to: toIso }}
          disabled={!!typeError || !!rangeError}
        />
      </div>
      {(typeError || rangeError) && (
        <div className="alert alert-error alerts-filter-error" role="alert">
          {typeError ? `Type: ${typeError}` : rangeError}
        </div>
      )}
      <div className="table-dense">
        <DataTable
          manual
          label="Alert history"
          testId="alert-history-table"
          columns={columns}
          data={history.data?.rows}
          getRowId={(a) => a.id}
          loading={history.isPending && !typeError && !rangeError}
          refreshing={history.isPlaceholderData}
          error={history.isError ? errorMessage(history.error) : null}
          emptyMessage={filtered ? 'No alerts match these filters.' : 'No alerts have been raised yet.'}
          onRowClick={onOpen}
          selectedRowId={selectedId}
          rowLabel={(a) => `Alert ${a.id}: ${a.level} ${a.type}${a.subject ? ` ${a.subject}` : ''}, ${a.status}`}
          isRowMuted={(a) => a.status === 'resolved'}
        />
      </div>
      <Pager page={page} pageSize={PAGE_SIZE} total={total} onPage={(p) => setPaging({ key: questionKey, page: p })} noun="alerts" />
      <p className="alerts-footnote">A date range keeps the alerts that were active in it: raised by the end of “To” and last seen on or after “From”.</p>
    </section>
  );
}
