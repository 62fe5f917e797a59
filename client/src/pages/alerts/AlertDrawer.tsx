import { useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useEffect, useMemo, useRef } from 'react';
import { isAdmin, useMe } from '../../auth';
import { formatCount } from '../../components/Amount';
import { DataTable } from '../../components/DataTable';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { useTRPC } from '../../trpc';
import { AlertStatusBadge, channelLabels, DeliveryStatusBadge, LevelBadge, When, type AlertDelivery, type AlertView } from './badges';
import { useReturnFocus } from '../../lib/return-focus';

const col = createColumnHelper<AlertDelivery>();

/** A metadata value as text: strings as they are, everything else as compact JSON. */
function metaText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatCount(v);
  return JSON.stringify(v);
}

/**
 * One alert in a side panel: what it says, its metadata, who acknowledged or resolved it, and where
 * it was delivered (one row per channel with status, attempts, last error and send time).
 */
export function AlertDrawer({ alert: a, onClose, onAction }: { alert: AlertView; onClose: () => void; onAction: (kind: 'acknowledge' | 'resolve', alert: AlertView) => void }) {
  const trpc = useTRPC();
  const admin = isAdmin(useMe());
  const ref = useRef<HTMLElement>(null);
  useReturnFocus(ref);
  const active = a.status !== 'resolved';
  // Quick while routing or a send is still to come, slow once everything settled, never for a closed alert.
  const deliveries = useQuery(
    trpc.admin.alerts.deliveries.queryOptions({ id: a.id }, { refetchInterval: (q) => (!active ? false : !q.state.data?.length || q.state.data.some((d) => d.status === 'pending') ? 3_000 : 15_000) }),
  );

  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, [a.id]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented || document.querySelector('dialog[open]')) return;
      onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const columns = useMemo(
    () => [
      col.accessor('channel', { header: 'Channel', meta: { width: 74 }, cell: (c) => <span className="strong">{channelLabels[c.getValue()]}</span> }),
      col.accessor('status', { header: 'Status', meta: { width: 70 }, cell: (c) => <DeliveryStatusBadge status={c.getValue()} /> }),
      col.accessor('attempts', { header: 'Attempts', meta: { align: 'right', width: 70 }, cell: (c) => formatCount(c.getValue()) }),
      col.accessor('lastError', {
        header: 'Last error',
        enableSorting: false,
        cell: (c) => {
          const d = c.row.original;
          if (d.lastError) return <span className="alerts-delivery-error">{d.lastError}</span>;
          return <span className="muted">—</span>;
        },
      }),
      col.accessor((d) => d.sentAt ?? d.nextAttemptAt, {
        id: 'when',
        header: 'Sent',
        meta: { width: 110 },
        cell: (c) => {
          const d = c.row.original;
          if (d.sentAt) return <When iso={d.sentAt} />;
          if (d.status === 'pending')
            return (
              <span className="muted" title={`Next attempt ${formatDateTime(d.nextAttemptAt)}`}>
                next <When iso={d.nextAttemptAt} />
              </span>
            );
          return <span className="muted">not sent</span>;
        },
      }),
    ],
    [],
  );

  const meta = Object.entries(a.metadata);

  return (
    <aside className="drawer alerts-drawer" aria-label={`Alert ${a.id}`} data-testid="alert-drawer" ref={ref} tabIndex={-1}>
      <header className="drawer-header">
        <div className="drawer-title">
          <h2 className="alerts-drawer-title">
            <LevelBadge level={a.level} />
            <span className="mono">{a.type}</span>
            {a.subject && <span className="alerts-subject">{a.subject}</span>}
          </h2>
          <div className="drawer-subtitle">
            <span className="muted">Alert #{a.id}</span>
            <span className="dot" aria-hidden>
              ·
            </span>
            <AlertStatusBadge alert={a} />
          </div>
        </div>
        <button type="button" className="icon-button" aria-label="Close alert panel" title="Close (Esc)" onClick={onClose}>
          ×
        </button>
      </header>

      <div className="drawer-body">
        <p className="alerts-drawer-message" data-testid="alert-message">
          {a.message}
        </p>

        <dl className="stat-grid alerts-stat-grid">
          <div className="stat">
            <dt>Occurrences</dt>
            <dd data-testid="alert-occurrences">×{formatCount(a.occurrences)}</dd>
          </div>
          <div className="stat">
            <dt>First seen</dt>
            <dd className="alerts-stat-time">{formatDateTime(a.createdAt)}</dd>
          </div>
          <div className="stat">
            <dt>Last seen</dt>
            <dd className="alerts-stat-time">
              {formatDateTime(a.lastSeenAt)}
              <span className="stat-sub">
                <When iso={a.lastSeenAt} />
              </span>
            </dd>
          </div>
          <div className="stat">
            <dt>Acknowledged</dt>
            <dd className="alerts-stat-time">
              {a.acknowledgedAt ? (
                <>
                  {formatDateTime(a.acknowledgedAt)}
                  <span className="stat-sub">by {a.acknowledgedBy}</span>
                </>
              ) : (
                <span className="muted">—</span>
              )}
            </dd>
          </div>
          <div className="stat">
            <dt>Resolved</dt>
            <dd className="alerts-stat-time">
              {a.resolvedAt ? (
                <>
                  {formatDateTime(a.resolvedAt)}
                  <span className="stat-sub">by {a.resolvedBy}</span>
                </>
              ) : (
                <span className="muted">—</span>
              )}
            </dd>
          </div>
          <div className="stat">
            <dt>Status</dt>
            <dd>
              <AlertStatusBadge alert={a} />
            </dd>
          </div>
        </dl>

        {admin && active && (
          <div className="drawer-actions">
            {a.status === 'open' && (
              <button type="button" className="button button-primary" onClick={() => onAction('acknowledge', a)}>
                Acknowledge
              </button>
            )}
            <button type="button" className="button" onClick={() => onAction('resolve', a)}>
              Resolve
            </button>
          </div>
        )}

        <div className="drawer-section-header">
          <h3>Metadata</h3>
        </div>
        {meta.length ? (
          <dl className="alerts-meta" data-testid="alert-metadata">
            {meta.map(([k, v]) => (
              <div key={k} className="alerts-meta-row">
                <dt className="mono">{k}</dt>
                <dd className="mono">{metaText(v)}</dd>
              </div>
            ))}
          </dl>
        ) : (
          <p className="muted">No metadata.</p>
        )}

        <div className="drawer-section-header">
          <h3>Deliveries</h3>
          <span className="muted">By level and the type&rsquo;s rules, once per channel cool-down</span>
        </div>
        <div className="table-dense">
          <DataTable
            label={`Deliveries of alert ${a.id}`}
            testId="alert-deliveries"
            columns={columns}
            data={deliveries.data}
            getRowId={(d) => d.id}
            loading={deliveries.isPending}
            error={deliveries.isError ? errorMessage(deliveries.error) : null}
            emptyMessage={active ? 'Not delivered yet: alerts are routed to their channels within half a minute.' : 'It was not delivered to any channel.'}
          />
        </div>
      </div>
    </aside>
  );
}
