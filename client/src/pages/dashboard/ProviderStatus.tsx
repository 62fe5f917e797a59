import { useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { lazy, Suspense, useMemo, useState } from 'react';
import type { z } from 'zod';
import type { dashboardSchema } from '../../../../shared/analytics';
import type { PoolView } from '../../../../shared/pools';
import { isAdmin, useMe } from '../../auth';
import { formatCount, formatUsd } from '../../components/Amount';
import { DataTable } from '../../components/DataTable';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { useTRPC } from '../../trpc';
import { PoolStatusBadge, type PoolStatus } from '../pools/badges';
import { formatRate, rateClass } from './format';

type Dashboard = z.infer<typeof dashboardSchema>;

export type ProviderRow = {
  name: string;
  /** Null for a pool that no configured provider uses. */
  kind: string | null;
  isActive: boolean;
  healthy: boolean | null;
  costPerRequest: string | null;
  successRate24h: number | null;
  poolBalance: number | null;
  poolStatus: string | null;
};

/** The providers, plus any (unsuspended) pool that no configured provider draws from, so every pool can be refilled here. */
export function providerRows(d: Dashboard): ProviderRow[] {
  const named = new Set(d.providers.map((p) => p.name));
  return [
    ...d.providers,
    ...d.forecast.pools
      .filter((p) => !named.has(p.provider))
      .map((p) => ({ name: p.provider, kind: null, isActive: true, healthy: null, costPerRequest: null, successRate24h: null, poolBalance: p.balance, poolStatus: null })),
  ];
}

// The refill form (and the zod schemas it validates with) loads on the first Refill click, not with the figures.
const loadRefillDialog = () => import('../pools/RefillDialog');
const RefillDialog = lazy(() => loadRefillDialog().then((m) => ({ default: m.RefillDialog })));

const col = createColumnHelper<ProviderRow>();
const poolStatuses: readonly string[] = ['active', 'suspended', 'depleted'];

function Health({ row }: { row: ProviderRow }) {
  if (row.kind === null) return <span className="muted">no provider</span>;
  const [cls, text] = row.healthy === null ? ['dash-dot-unknown', 'Not checked'] : row.healthy ? ['dash-dot-ok', 'Healthy'] : ['dash-dot-bad', 'Failing'];
  return (
    <span className="cell-inline" data-testid={`provider-health-${row.name}`}>
      <span className={`dash-dot ${cls}`} aria-hidden />
      {text}
    </span>
  );
}

/**
 * Provider status: health, cost per request, 24-hour success rate and the pool's credits; admins
 * refill a pool from here (the Pools page's refill dialog, amount prefilled with 500).
 */
export function ProviderStatus({ dashboard, onRefilled }: { dashboard: Dashboard; onRefilled: () => void }) {
  const trpc = useTRPC();
  const me = useMe();
  const admin = isAdmin(me);
  const queryClient = useQueryClient();
  const toast = useToast();
  const [refilling, setRefilling] = useState<PoolView | null>(null);
  const [opening, setOpening] = useState<string | null>(null);
  const [dialogLoaded, setDialogLoaded] = useState(false);

  const rows = useMemo(() => providerRows(dashboard), [dashboard]);

  const columns = useMemo(() => {
    // The dialog needs the pool itself (cost per credit, billing mode): fetched fresh on the click.
    const openRefill = async (provider: string) => {
      setOpening(provider);
      try {
        const [pool] = await Promise.all([queryClient.fetchQuery({ ...trpc.admin.pools.get.queryOptions({ provider }), staleTime: 0 }), loadRefillDialog()]);
        setDialogLoaded(true);
        setRefilling(pool);
      } catch (err) {
        toast.show(`Cannot refill ${provider}: ${errorMessage(err)}`, 'error');
      } finally {
        setOpening(null);
      }
    };
    return [
      col.accessor('name', {
        header: 'Provider',
        cell: (c) => {
          const r = c.row.original;
          return (
            <span className="cell-inline">
              <span className="mono strong">{r.name}</span>
              {r.kind && r.kind !== r.name && <span className="tag">{r.kind}</span>}
              {!r.isActive && <span className="tag">inactive</span>}
            </span>
          );
        },
      }),
      col.accessor((r) => (r.kind === null ? 3 : r.healthy === null ? 2 : r.healthy ? 0 : 1), {
        id: 'health',
        header: 'Health',
        meta: { width: 110 },
        cell: (c) => <Health row={c.row.original} />,
      }),
      col.accessor('costPerRequest', {
        header: 'Cost/request',
        meta: { align: 'right', width: 100 },
        sortingFn: (a, b) => Number(a.original.costPerRequest ?? -1) - Number(b.original.costPerRequest ?? -1),
        cell: (c) => (c.getValue() === null ? <span className="muted">—</span> : formatUsd(c.getValue())),
      }),
      col.accessor('successRate24h', {
        header: 'Success 24 h',
        meta: { align: 'right', width: 100 },
        sortUndefined: 'last',
        cell: (c) => {
          const v = c.getValue();
          if (v === null) return <span className="muted">no calls</span>;
          return <span className={rateClass(v)}>{formatRate(v)}</span>;
        },
      }),
      col.accessor('poolBalance', {
        header: 'Credits remaining',
        meta: { align: 'right', width: 130 },
        sortUndefined: 'last',
        cell: (c) => {
          const r = c.row.original;
          if (r.poolBalance === null) return <span className="muted">{r.kind === 'local' ? 'no pool needed' : 'no pool'}</span>;
          return (
            <span className={r.poolBalance === 0 ? 'balance-zero' : undefined} data-testid={`provider-credits-${r.name}`}>
              {formatCount(r.poolBalance)}
            </span>
          );
        },
      }),
      col.accessor('poolStatus', {
        header: 'Pool',
        meta: { width: 90 },
        cell: (c) => {
          const s = c.getValue();
          return s && poolStatuses.includes(s) ? <PoolStatusBadge status={s as PoolStatus} /> : <span className="muted">—</span>;
        },
      }),
      ...(admin
        ? [
            col.display({
              id: 'actions',
              header: () => <span className="sr-only">Actions</span>,
              meta: { align: 'right', width: 76 },
              cell: (c) => {
                const r = c.row.original;
                if (r.poolBalance === null) return null;
                const suspended = r.poolStatus === 'suspended';
                return (
                  <button
                    type="button"
                    className="button button-small"
                    disabled={suspended || opening !== null}
                    title={suspended ? 'Resume the pool on the Pools page before refilling it' : undefined}
                    aria-label={`Refill ${r.name}`}
                    onClick={() => void openRefill(r.name)}
                  >
                    {opening === r.name ? 'Opening…' : 'Refill'}
                  </button>
                );
              },
            }),
          ]
        : []),
    ];
  }, [admin, opening, queryClient, trpc, toast]);

  return (
    <section className="section dash-panel" aria-labelledby="dash-providers-title">
      <div className="dash-panel-header">
        <h2 id="dash-providers-title">Providers</h2>
        <span className="muted">Success over the last 24 h; credits are each provider's pool.</span>
      </div>
      <div className="table-dense">
        <DataTable
          label="Provider status"
          testId="provider-status-table"
          columns={columns}
          data={rows}
          getRowId={(r) => r.name}
          emptyMessage="No providers or pools yet."
          isRowMuted={(r) => !r.isActive || r.poolStatus === 'suspended'}
        />
      </div>
      {admin && dialogLoaded && (
        <Suspense fallback={null}>
          <RefillDialog
            pool={refilling}
            onClose={() => {
              setRefilling(null);
              onRefilled();
            }}
          />
        </Suspense>
      )}
    </section>
  );
}
