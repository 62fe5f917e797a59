import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { PoolView } from '../../../shared/pools';
import { isAdmin, useMe } from '../auth';
import { formatCount, formatUsd } from '../components/Amount';
import { DataTable } from '../components/DataTable';
import { PageHeader } from '../components/EmptyState';
import { ReasonDialog } from '../components/ReasonDialog';
import { useToast } from '../components/Toasts';
import { errorMessage } from '../lib/errors';
import { formatDateTime, formatRelative } from '../lib/format';
import { useTRPC } from '../trpc';
import { PoolStatusBadge } from './pools/badges';
import { ArchivePoolDialog } from './pools/ArchivePoolDialog';
import { EnableAutoRefillDialog } from './pools/EnableAutoRefillDialog';
import { PoolDialog } from './pools/PoolDialog';
import { PurchaseRequestsSection } from './pools/PurchaseRequestsSection';
import { RefillDialog } from './pools/RefillDialog';
import { BudgetFigures } from './pools/BudgetFigures';
import { PoolForecast } from './usage/PoolForecast';

const col = createColumnHelper<PoolView>();

type EditState = { open: false } | { open: true; pool: PoolView | null };

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
  const columns = useMemo(
    () => [
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
            <span
              className={short ? 'balance-low' : undefined}
              title={`Emergency reserve: ${formatCount(p.reserveBalance)} held of ${formatCount(p.emergencyReserve)} configured`}
            >
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
                    <button
                      type="button"
                      className="button button-small button-danger-quiet"
                      aria-label={`Archive ${p.provider}`}
                      onClick={() => setArchiving({ pool: p, restore: false })}
                    >
                      Archive
                    </button>
                  </span>
                );
              },
            }),
          ]
        : []),
    ],
    [admin, resetSuspend, resetResume],
  );

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
            <p className="section-description">
              Available includes the emergency reserve. Burn today counts credits drawn since midnight UTC.
            </p>
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
                  Suspend the <strong>{toggling?.provider}</strong> pool? It serves no requests and is not refilled until resumed; enhancements fall
                  back to the next provider.
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
