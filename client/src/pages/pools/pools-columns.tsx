import { createColumnHelper } from '@tanstack/react-table';
import type { PoolView } from '../../../../shared/pools';
import { formatCount, formatUsd } from '../../components/Amount';
import { formatDateTime, formatRelative } from '../../lib/format';
import { PoolStatusBadge } from './badges';

const col = createColumnHelper<PoolView>();

export type EditState = { open: false } | { open: true; pool: PoolView | null };

/** What a row's buttons open: the page owns the dialogs. */
type PoolColumnsContext = {
  admin: boolean;
  /** Clear the last suspend/resume error before a new one is asked for. */
  resetSuspend: () => void;
  resetResume: () => void;
  setArchiving: (archiving: { pool: PoolView; restore: boolean }) => void;
  setEnabling: (pool: PoolView) => void;
  setRefilling: (pool: PoolView) => void;
  setToggling: (pool: PoolView) => void;
  setEdit: (edit: EditState) => void;
};

/** The pools table: balance, today's use, auto-refill and budget, and the admin's actions. */
export function poolColumns({ admin, resetSuspend, resetResume, setArchiving, setEnabling, setRefilling, setToggling, setEdit }: PoolColumnsContext) {
  return [
    col.accessor('provider', {
      header: 'Provider',
      meta: { mono: true },
      cell: (c) => (
        <span className="cell-inline">
          <span className="strong">{c.getValue()}</span>
          {c.row.original.archivedAt && (
            <span className="tag" title={`Archived ${formatDateTime(c.row.original.archivedAt)}`} data-testid={`pool-archived-${c.getValue()}`}>
              archived
            </span>
          )}
        </span>
      ),
    }),
    col.accessor('status', {
      header: 'Status',
      meta: { width: 96 },
      cell: (c) => {
        const p = c.row.original;
        const backingOff = p.refillBackoffUntil && new Date(p.refillBackoffUntil).getTime() > Date.now();
        return (
          <span className="cell-inline">
            <PoolStatusBadge status={p.status} />
            {p.autoRefillStoppedAt ? (
              <span className="tag" title={`Auto-refill stopped ${formatDateTime(p.autoRefillStoppedAt)} after ${p.refillFailures} failed refills. Last error: ${p.lastRefillError ?? 'unknown'}`}>
                refill stopped
              </span>
            ) : (
              backingOff && (
                <span className="tag" title={`Automatic refills paused after a failure until ${formatDateTime(p.refillBackoffUntil)}`}>
                  backoff
                </span>
              )
            )}
          </span>
        );
      },
    }),
    col.accessor('availableBalance', {
      header: 'Available',
      meta: { align: 'right', width: 92 },
      cell: (c) => {
        const p = c.row.original;
        const low = p.availableBalance <= p.effectiveThreshold;
        return (
          <span
            className={p.availableBalance === 0 ? 'balance-zero' : low ? 'balance-low' : undefined}
            title={low ? `At or below the refill threshold (${formatCount(p.effectiveThreshold)})` : undefined}
            data-testid={`pool-available-${p.provider}`}
          >
            {formatCount(p.availableBalance)}
          </span>
        );
      },
    }),
    col.accessor('reserveBalance', {
      header: 'Reserve',
      meta: { align: 'right', width: 80 },
      cell: (c) => {
        const p = c.row.original;
        const short = p.reserveBalance < p.emergencyReserve;
        return (
          <span className={short ? 'balance-low' : undefined} title={`Emergency reserve: ${formatCount(p.reserveBalance)} held of ${formatCount(p.emergencyReserve)} configured`}>
            {formatCount(p.reserveBalance)}
            {p.emergencyReserve > 0 && <span className="cell-sub"> / {formatCount(p.emergencyReserve)}</span>}
          </span>
        );
      },
    }),
    col.accessor('consumedToday', {
      header: 'Burn today',
      meta: { align: 'right', width: 86 },
      cell: (c) => formatCount(c.getValue()),
    }),
    col.accessor('effectiveThreshold', {
      header: 'Threshold',
      meta: { align: 'right', width: 82 },
      cell: (c) => {
        const p = c.row.original;
        return (
          <span title={p.autoRefillThresholdPercent !== null ? `${p.autoRefillThresholdPercent}% of the last refill` : 'Fixed threshold'}>
            {formatCount(c.getValue())}
            {p.autoRefillThresholdPercent !== null && <span className="cell-sub"> ({p.autoRefillThresholdPercent}%)</span>}
          </span>
        );
      },
    }),
    col.accessor('costPerCredit', {
      header: 'Cost/credit',
      meta: { align: 'right', width: 84 },
      sortingFn: (a, b) => Number(a.original.costPerCredit) - Number(b.original.costPerCredit),
      cell: (c) => formatUsd(c.getValue()),
    }),
    col.accessor('billingMode', {
      header: 'Billing',
      meta: { width: 72 },
      cell: (c) => (
        <span title={c.row.original.billingUrl ?? 'Admins record refills bought by hand'}>
          {c.getValue()}
          {c.getValue() === 'http' && !c.row.original.billingApiKeySet && (
            <span className="tag" title="No billing API key set">
              no key
            </span>
          )}
        </span>
      ),
    }),
    col.accessor('lastRefillAt', {
      header: 'Last refill',
      meta: { width: 96 },
      sortUndefined: 'last',
      cell: (c) => {
        const v = c.getValue();
        return v ? (
          <time dateTime={v} title={formatDateTime(v)}>
            {formatRelative(v)}
          </time>
        ) : (
          <span className="muted">never</span>
        );
      },
    }),
    ...(admin
      ? [
          col.display({
            id: 'actions',
            header: () => <span className="sr-only">Actions</span>,
            meta: { align: 'right', width: 230 },
            cell: (c) => {
              const p = c.row.original;
              const suspended = p.status === 'suspended';
              if (p.archivedAt) {
                return (
                  <span className="row-actions">
                    <button type="button" className="button button-small" aria-label={`Restore ${p.provider}`} onClick={() => setArchiving({ pool: p, restore: true })}>
                      Restore
                    </button>
                  </span>
                );
              }
              return (
                <span className="row-actions">
                  {p.autoRefillStoppedAt && (
                    <button type="button" className="button button-small" aria-label={`Re-enable auto-refill of ${p.provider}`} onClick={() => setEnabling(p)}>
                      Re-enable refill
                    </button>
                  )}
                  <button
                    type="button"
                    className="button button-small"
                    disabled={suspended}
                    title={suspended ? 'Resume the pool before refilling it' : undefined}
                    aria-label={`Refill ${p.provider}`}
                    onClick={() => setRefilling(p)}
                  >
                    Refill
                  </button>
                  <button
                    type="button"
                    className={suspended ? 'button button-small' : 'button button-small button-danger-quiet'}
                    aria-label={`${suspended ? 'Resume' : 'Suspend'} ${p.provider}`}
                    onClick={() => {
                      resetSuspend();
                      resetResume();
                      setToggling(p);
                    }}
                  >
                    {suspended ? 'Resume' : 'Suspend'}
                  </button>
                  <button type="button" className="button button-small" aria-label={`Edit ${p.provider}`} onClick={() => setEdit({ open: true, pool: p })}>
                    Edit
                  </button>
                  <button type="button" className="button button-small button-danger-quiet" aria-label={`Archive ${p.provider}`} onClick={() => setArchiving({ pool: p, restore: false })}>
                    Archive
                  </button>
                </span>
              );
            },
          }),
        ]
      : []),
  ];
}
