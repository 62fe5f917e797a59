import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import type { PoolView } from '../../../shared/pools';
import { isAdmin, useMe } from '../auth';
import { formatCount } from '../components/Amount';
import { DataTable } from '../components/DataTable';
import { PageHeader } from '../components/EmptyState';
import { ReasonDialog } from '../components/ReasonDialog';
import { useToast } from '../components/Toasts';
import { errorMessage } from '../lib/errors';
import { useTRPC } from '../trpc';
import { poolColumns, type EditState } from './pools/pools-columns';
import { ArchivePoolDialog } from './pools/ArchivePoolDialog';
import { EnableAutoRefillDialog } from './pools/EnableAutoRefillDialog';
import { PoolDialog } from './pools/PoolDialog';
import { PurchaseRequestsSection } from './pools/PurchaseRequestsSection';
import { RefillDialog } from './pools/RefillDialog';
import { BudgetFigures } from './pools/BudgetFigures';
import { PoolForecast } from './usage/PoolForecast';

export function PoolsPage() {
  const trpc = useTRPC();
  const me = useMe();
  const admin = isAdmin(me);
  const queryClient = useQueryClient();
  const toast = useToast();
  const [showArchived, setShowArchived] = useState(false);
  const pools = useQuery(trpc.admin.pools.list.queryOptions(showArchived ? { includeArchived: true } : undefined, { refetchInterval: 30_000 }));
  const [archiving, setArchiving] = useState<{ pool: PoolView; restore: boolean } | null>(null);
  const [edit, setEdit] = useState<EditState>({ open: false });
  const [refilling, setRefilling] = useState<PoolView | null>(null);
  const [toggling, setToggling] = useState<PoolView | null>(null);
  const [enabling, setEnabling] = useState<PoolView | null>(null);

  const onToggled = (p: PoolView) => {
    setToggling(null);
    toast.show(p.status === 'suspended' ? `Pool ${p.provider} suspended: it serves no requests until resumed.` : `Pool ${p.provider} resumed (${p.status}).`);
    void queryClient.invalidateQueries(trpc.admin.pools.pathFilter());
  };
  const suspend = useMutation(trpc.admin.pools.suspend.mutationOptions({ onSuccess: onToggled }));
  const resume = useMutation(trpc.admin.pools.resume.mutationOptions({ onSuccess: onToggled }));
  const suspending = toggling?.status !== 'suspended';
  const toggle = suspending ? suspend : resume;

  const resetSuspend = suspend.reset;
  const resetResume = resume.reset;
  const columns = useMemo(() => poolColumns({ admin, resetSuspend, resetResume, setArchiving, setEnabling, setRefilling, setToggling, setEdit }), [admin, resetSuspend, resetResume]);

  const totals = pools.data?.filter((p) => !p.archivedAt).reduce((t, p) => ({ available: t.available + p.availableBalance, today: t.today + p.consumedToday }), { available: 0, today: 0 });

  return (
    <div className="page page-wide">
      <PageHeader
        title="Pools"
        description="The platform's prepaid credits at each AI provider. A pool at its threshold refills itself; over the month's budget a refill waits for approval."
        actions={
          admin && (
            <button type="button" className="button button-primary" onClick={() => setEdit({ open: true, pool: null })}>
              Create pool
            </button>
          )
        }
      />
      <BudgetFigures />
      <PoolForecast />
      <section className="section" aria-labelledby="pools-title">
        <div className="section-header">
          <div>
            <h2 id="pools-title">Provider pools</h2>
            <p className="section-description">Available includes the emergency reserve. Burn today counts credits drawn since midnight UTC.</p>
          </div>
          <div className="section-stats">
            {totals && pools.data!.length > 0 && (
              <>
                <span>
                  <span className="muted">Available</span> <strong>{formatCount(totals.available)}</strong>
                </span>
                <span>
                  <span className="muted">Burn today</span> <strong>{formatCount(totals.today)}</strong>
                </span>
              </>
            )}
            <label className="toolbar-check">
              <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} />
              Show archived
            </label>
          </div>
        </div>
        <div className="table-dense">
          <DataTable
            label="Pools"
            testId="pools-table"
            columns={columns}
            data={pools.data}
            getRowId={(p) => p.provider}
            loading={pools.isPending}
            error={pools.isError ? errorMessage(pools.error) : null}
            emptyMessage={admin ? 'No pools yet. Create one for each paid AI provider.' : 'No pools yet.'}
            isRowMuted={(p) => p.status === 'suspended' || !!p.archivedAt}
            initialSorting={[{ id: 'provider', desc: false }]}
          />
        </div>
      </section>

      <PurchaseRequestsSection />

      {admin && (
        <>
          <PoolDialog open={edit.open} pool={edit.open ? edit.pool : null} onClose={() => setEdit({ open: false })} />
          <RefillDialog pool={refilling} onClose={() => setRefilling(null)} />
          <EnableAutoRefillDialog pool={enabling} onClose={() => setEnabling(null)} />
          <ArchivePoolDialog pool={archiving?.pool ?? null} restore={archiving?.restore ?? false} onClose={() => setArchiving(null)} />
          <ReasonDialog
            open={toggling !== null}
            title={suspending ? `Suspend ${toggling?.provider ?? ''}` : `Resume ${toggling?.provider ?? ''}`}
            message={
              suspending ? (
                <p>
                  Suspend the <strong>{toggling?.provider}</strong> pool? It serves no requests and is not refilled until resumed; enhancements fall back to the next provider.
                </p>
              ) : (
                <p>
                  Resume the <strong>{toggling?.provider}</strong> pool? It serves requests again (or shows as depleted while empty).
                </p>
              )
            }
            confirmLabel={suspending ? 'Suspend pool' : 'Resume pool'}
            busyLabel={suspending ? 'Suspending…' : 'Resuming…'}
            danger={suspending}
            placeholder={suspending ? 'e.g. provider incident' : 'e.g. incident resolved'}
            busy={toggle.isPending}
            error={toggle.isError ? errorMessage(toggle.error) : null}
            onConfirm={(reason) => toggling && toggle.mutate({ provider: toggling.provider, reason })}
            onClose={() => setToggling(null)}
          />
        </>
      )}
    </div>
  );
}
