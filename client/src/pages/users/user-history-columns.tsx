import { createColumnHelper } from '@tanstack/react-table';
import type { TransactionView } from '../../../../shared/credits';
import { Delta, formatCount, formatUsd } from '../../components/Amount';
import { formatDateTime, formatRelative } from '../../lib/format';

const typeLabels: Record<string, string> = {
  allocation: 'Allocation',
  consumption: 'Consumption',
  hold: 'Hold',
  capture: 'Capture',
  release: 'Release',
  grant: 'Grant',
  grant_expiry: 'Grant expired',
  adjustment: 'Adjustment',
  refund: 'Refund',
  tier_change: 'Tier change',
  reallocation: 'Reallocation',
};
export const typeLabel = (t: string) => typeLabels[t] ?? t.replaceAll('_', ' ');

/** What the user paid for themselves and has not had back yet. */
const isRefundable = (t: TransactionView) => (t.type === 'consumption' || t.type === 'capture') && t.source === 'user_credits' && t.status !== 'refunded' && t.creditsUsed > 0;

const col = createColumnHelper<TransactionView>();

/** `11-24 14:32` this year, `2024-11-24` before: the full time is in the tooltip. */
function shortTime(iso: string): string {
  const full = formatDateTime(iso);
  return full.slice(0, 4) === String(new Date().getFullYear()) ? full.slice(5) : full.slice(0, 10);
}

/** A user's credit history, newest first; an admin can refund what the user paid for themselves. */
export function historyColumns({
  admin,
  resetRefund,
  setRefunding,
}: {
  admin: boolean;
  /** Clears the last refund's error before a new one is asked for. */
  resetRefund: () => void;
  setRefunding: (t: TransactionView) => void;
}) {
  return [
    col.accessor('createdAt', {
      header: 'Time',
      enableSorting: false,
      meta: { width: 86 },
      cell: (c) => (
        <time dateTime={c.getValue()} title={`${formatDateTime(c.getValue())} (${formatRelative(c.getValue())})`}>
          {shortTime(c.getValue())}
        </time>
      ),
    }),
    col.accessor('type', {
      header: 'Type',
      enableSorting: false,
      cell: (c) => {
        const t = c.row.original;
        return (
          <span className="tx-type" title={t.enhancementType ? `${t.enhancementType}${t.moodboardId ? ` · moodboard ${t.moodboardId}` : ''}` : undefined}>
            {typeLabel(t.type)}
            {t.status === 'refunded' && <span className="tag">refunded</span>}
          </span>
        );
      },
    }),
    col.accessor('creditsDelta', {
      header: 'Δ',
      enableSorting: false,
      meta: { align: 'right', width: 48 },
      cell: (c) => <Delta value={c.getValue()} />,
    }),
    col.accessor('balanceAfter', {
      header: 'After',
      enableSorting: false,
      meta: { align: 'right', width: 52 },
      cell: (c) => formatCount(c.getValue()),
    }),
    col.accessor('source', {
      header: 'Source',
      enableSorting: false,
      meta: { width: 62 },
      cell: (c) => {
        const v = c.getValue();
        if (!v) return <span className="muted">—</span>;
        return <span title={v === 'platform_pool' ? 'Paid by the platform pool' : "From the user's credits"}>{v === 'platform_pool' ? 'pool' : 'user'}</span>;
      },
    }),
    col.accessor('costUsd', {
      header: 'Cost',
      enableSorting: false,
      meta: { align: 'right', width: 64 },
      cell: (c) => (c.getValue() ? formatUsd(c.getValue()) : <span className="muted">—</span>),
    }),
    col.accessor('provider', {
      header: 'Provider',
      enableSorting: false,
      meta: { width: 70 },
      cell: (c) => c.getValue() ?? <span className="muted">—</span>,
    }),
    col.accessor('reason', {
      header: 'Reason',
      enableSorting: false,
      meta: { grow: true },
      cell: (c) => {
        const v = c.getValue();
        return v ? <span title={v}>{v}</span> : <span className="muted">—</span>;
      },
    }),
    ...(admin
      ? [
          col.display({
            id: 'actions',
            header: () => <span className="sr-only">Actions</span>,
            meta: { align: 'right', width: 64 },
            cell: (c) =>
              isRefundable(c.row.original) ? (
                <button
                  type="button"
                  className="button button-small"
                  aria-label={`Refund transaction ${c.row.original.transactionId}`}
                  onClick={() => {
                    resetRefund();
                    setRefunding(c.row.original);
                  }}
                >
                  Refund
                </button>
              ) : null,
          }),
        ]
      : []),
  ];
}
