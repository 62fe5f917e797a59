import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import type { GrantView } from '../../../../shared/credits';
import { formatCount } from '../../components/Amount';
import { DataTable } from '../../components/DataTable';
import { formatDateTime } from '../../lib/format';

const kindLabels: Record<GrantView['kind'], { label: string; badge: string }> = {
  allowance: { label: 'Monthly allowance', badge: 'badge-info' },
  rollover: { label: 'Rollover', badge: 'badge-muted' },
  promotional: { label: 'Promotional', badge: 'badge-ok' },
  paid: { label: 'Paid pack', badge: 'badge-warn' },
};

const col = createColumnHelper<GrantView & { position: number }>();

/**
 * Where a user's balance comes from, in the order a charge spends it (ADR 022): by priority, then
 * the soonest expiry, then the oldest. The server sends them in that order; the table keeps it.
 */
export function GrantBreakdown({ userId, grants }: { userId: string; grants: GrantView[] }) {
  const rows = useMemo(() => grants.map((g, i) => ({ ...g, position: i + 1 })), [grants]);
  const columns = useMemo(
    () => [
      col.accessor('position', { header: '#', meta: { align: 'right', width: 36 }, cell: (c) => <span className="muted">{c.getValue()}</span> }),
      col.accessor('kind', {
        header: 'Source',
        meta: { width: 150 },
        cell: (c) => {
          const k = kindLabels[c.getValue()];
          return <span className={`badge ${k.badge}`}>{k.label}</span>;
        },
      }),
      col.accessor('reason', {
        header: 'Reason',
        cell: (c) => (c.row.original.kind === 'allowance' ? <span className="muted">this month&apos;s allowance</span> : (c.getValue() ?? <span className="muted">–</span>)),
      }),
      col.accessor('priority', { header: 'Priority', meta: { align: 'right', width: 70 } }),
      col.accessor('remaining', {
        header: 'Left',
        meta: { align: 'right', width: 120 },
        cell: (c) => {
          const g = c.row.original;
          return (
            <span>
              <strong>{formatCount(g.remaining)}</strong> <span className="muted">of {formatCount(g.credits)}</span>
              {g.frozenCredits > 0 && (
                <span className="badge badge-danger" title="Held out of the balance while the payment is disputed">
                  {formatCount(g.frozenCredits)} frozen
                </span>
              )}
            </span>
          );
        },
      }),
      col.accessor('expiresAt', {
        header: 'Expires',
        meta: { width: 130 },
        cell: (c) => {
          const at = c.getValue();
          return at ? <time dateTime={at}>{formatDateTime(at)}</time> : <span className="muted">never</span>;
        },
      }),
    ],
    [],
  );
  return (
    <DataTable
      manual
      label={`Credit sources of ${userId}, in spending order`}
      testId="user-grants"
      columns={columns}
      data={rows}
      getRowId={(g) => (g.grantId === null ? 'allowance' : g.grantId)}
      emptyMessage="No credits left: no allowance and no grant."
    />
  );
}
