import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import { Link } from 'wouter';
import type { z } from 'zod';
import type { topUserSchema } from '../../../../shared/analytics';
import { tiers, type Tier } from '../../../../shared/enums';
import { formatCount, formatUsd } from '../../components/Amount';
import { DataTable } from '../../components/DataTable';
import { errorMessage } from '../../lib/errors';
import { useTRPC } from '../../trpc';
import { TierBadge } from '../users/TierBadge';
import { formatUsdShort } from './money';

type TopUser = z.infer<typeof topUserSchema>;
const col = createColumnHelper<TopUser>();
const isTier = (t: string | null): t is Tier => !!t && (tiers as readonly string[]).includes(t);

const LIMIT = 20;

/** The heaviest users over the range, each a link to their panel on the Users page. */
export function TopUsers({ range }: { range: { from: string; to: string } }) {
  const trpc = useTRPC();
  const top = useQuery(trpc.admin.usage.topUsers.queryOptions({ range, limit: LIMIT }, { placeholderData: keepPreviousData }));

  const columns = useMemo(
    () => [
      col.display({
        id: 'rank',
        header: '#',
        meta: { align: 'right', width: 36 },
        cell: (c) => <span className="muted">{c.row.index + 1}</span>,
      }),
      col.accessor('userId', {
        header: 'User',
        meta: { mono: true },
        cell: (c) => (
          <Link href={`/users?user=${encodeURIComponent(c.getValue())}`} className="strong">
            {c.getValue()}
          </Link>
        ),
      }),
      col.accessor('email', {
        header: 'Email',
        cell: (c) => c.getValue() ?? <span className="muted">—</span>,
      }),
      col.accessor('tier', {
        header: 'Tier',
        meta: { width: 70 },
        cell: (c) => {
          const t = c.getValue();
          return isTier(t) ? <TierBadge tier={t} /> : <span className="muted">{t ?? '—'}</span>;
        },
      }),
      col.accessor('requests', { header: 'Requests', meta: { align: 'right', width: 90 }, cell: (c) => formatCount(c.getValue()) }),
      col.accessor('credits', { header: 'Credits', meta: { align: 'right', width: 90 }, cell: (c) => formatCount(c.getValue()) }),
      col.accessor('costUsd', {
        header: 'Provider cost',
        meta: { align: 'right', width: 110 },
        sortingFn: (a, b) => Number(a.original.costUsd) - Number(b.original.costUsd),
        cell: (c) => <span title={formatUsd(c.getValue())}>{formatUsdShort(c.getValue())}</span>,
      }),
    ],
    [],
  );

  return (
    <section className="section usage-panel" aria-labelledby="top-users-title">
      <div className="usage-panel-header">
        <h2 id="top-users-title">Top users</h2>
        <span className="muted">The {LIMIT} users with the most requests in the range, from the nightly summaries (finished days).</span>
      </div>
      <div className={top.isPlaceholderData ? 'table-dense table-refreshing' : 'table-dense'}>
        <DataTable
          label="Top users"
          testId="top-users-table"
          columns={columns}
          data={top.data}
          getRowId={(u) => u.userId}
          loading={top.isPending}
          error={top.isError ? errorMessage(top.error) : null}
          emptyMessage="No usage in this range yet."
        />
      </div>
    </section>
  );
}
