import type { UseQueryResult } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { AlertLevelName } from '../../../../shared/alerts';
import { isAdmin, useMe } from '../../auth';
import { formatCount } from '../../components/Amount';
import { DataTable } from '../../components/DataTable';
import { errorMessage } from '../../lib/errors';
import { AlertStatusBadge, LevelBadge, levelsBySeverity, Occurrences, When, type AlertView } from './badges';

const col = createColumnHelper<AlertView>();

type StatusFilter = 'all' | 'open' | 'acknowledged';

/**
 * What needs attention now: open and acknowledged alerts, most recently seen first (the server's
 * order). Filters narrow the list in the browser: the server sends at most 500 active alerts.
 */
export function ActiveAlertsSection({
  active,
  selectedId,
  onOpen,
  onAction,
}: {
  active: UseQueryResult<AlertView[], unknown>;
  selectedId: string | null;
  onOpen: (alert: AlertView) => void;
  onAction: (kind: 'acknowledge' | 'resolve', alert: AlertView) => void;
}) {
  const admin = isAdmin(useMe());
  const [level, setLevel] = useState<AlertLevelName | 'all'>('all');
  const [status, setStatus] = useState<StatusFilter>('all');

  const rows = useMemo(() => active.data?.filter((a) => (level === 'all' || a.level === level) && (status === 'all' || a.status === status)), [active.data, level, status]);

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
      col.accessor('message', {
        header: 'Message',
        meta: { grow: true },
        cell: (c) => <span title={c.getValue()}>{c.getValue()}</span>,
      }),
      col.accessor('occurrences', { header: 'Seen', meta: { align: 'right', width: 52 }, cell: (c) => <Occurrences n={c.getValue()} /> }),
      col.accessor('createdAt', { header: 'First seen', meta: { width: 82 }, cell: (c) => <When iso={c.getValue()} /> }),
      col.accessor('lastSeenAt', { header: 'Last seen', meta: { width: 82 }, cell: (c) => <When iso={c.getValue()} /> }),
      col.accessor('status', { header: 'Status', meta: { width: 104 }, cell: (c) => <AlertStatusBadge alert={c.row.original} /> }),
      ...(admin
        ? [
            col.display({
              id: 'actions',
              header: () => <span className="sr-only">Actions</span>,
              meta: { align: 'right', width: 158 },
              cell: (c) => {
                const a = c.row.original;
                const what = `alert ${a.id} ${a.type}${a.subject ? ` ${a.subject}` : ''}`;
                return (
                  <span className="row-actions">
                    {a.status === 'open' && (
                      <button type="button" className="button button-small" aria-label={`Acknowledge ${what}`} onClick={() => onAction('acknowledge', a)}>
                        Acknowledge
                      </button>
                    )}
                    <button type="button" className="button button-small" aria-label={`Resolve ${what}`} onClick={() => onAction('resolve', a)}>
                      Resolve
                    </button>
                  </span>
                );
              },
            }),
          ]
        : []),
    ],
    [admin, onAction],
  );

  const filtered = level !== 'all' || status !== 'all';
  const total = active.data?.length ?? 0;

  return (
    <section className="section" aria-label="Active alerts">
      <div className="toolbar">
        <label className="toolbar-field">
          <span>Level</span>
          <select value={level} onChange={(e) => setLevel(e.target.value as AlertLevelName | 'all')} aria-label="Level filter">
            <option value="all">All levels</option>
            {levelsBySeverity.map((l) => (
              <option key={l} value={l}>
                {l[0]!.toUpperCase() + l.slice(1)}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-field">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)} aria-label="Status filter">
            <option value="all">Open and acknowledged</option>
            <option value="open">Open</option>
            <option value="acknowledged">Acknowledged</option>
          </select>
        </label>
        {filtered && (
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              setLevel('all');
              setStatus('all');
            }}
          >
            Clear filters
          </button>
        )}
        <span className="toolbar-spacer" />
        <span className="toolbar-total" data-testid="active-total">
          {active.data ? (filtered ? `${formatCount(rows?.length ?? 0)} of ${formatCount(total)} active` : `${formatCount(total)} active alert${total === 1 ? '' : 's'}`) : ''}
          {active.isFetching && active.data ? <span className="alerts-refreshing" aria-hidden /> : null}
        </span>
      </div>
      <div className="table-dense">
        <DataTable
          manual
          label="Active alerts"
          testId="active-alerts-table"
          columns={columns}
          data={rows}
          getRowId={(a) => a.id}
          loading={active.isPending}
          error={active.isError ? errorMessage(active.error) : null}
          emptyMessage={filtered ? 'No active alerts match these filters.' : 'No active alerts. All clear.'}
          onRowClick={onOpen}
          selectedRowId={selectedId}
          rowLabel={(a) => `Alert ${a.id}: ${a.level} ${a.type}${a.subject ? ` ${a.subject}` : ''}, ${a.status}`}
          isRowMuted={(a) => a.status === 'acknowledged'}
        />
      </div>
      <p className="alerts-footnote">Refreshes every 15 seconds. Click a row for its metadata and deliveries.</p>
    </section>
  );
}
