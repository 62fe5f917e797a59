import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useCallback, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { ProviderView } from '../../../shared/providers';
import { isAdmin, useMe } from '../auth';
import { formatCount, formatUsd } from '../components/Amount';
import { PageHeader } from '../components/EmptyState';
import { ReasonDialog } from '../components/ReasonDialog';
import { ServerTable } from '../components/ServerTable';
import { useToast } from '../components/Toasts';
import { errorMessage } from '../lib/errors';
import { formatDateTime, formatRelative } from '../lib/format';
import { formatRate, rateClass } from './dashboard/format';
import { useTRPC } from '../trpc';
import { CircuitBadge, HealthDot } from './providers/badges';
import { kindLabels, ProviderDialog } from './providers/ProviderDialog';
import { SetActiveDialog } from './providers/SetActiveDialog';
import { TryEnhancementPanel } from './providers/TryEnhancementPanel';

const col = createColumnHelper<ProviderView>();

type EditState = { open: false } | { open: true; provider: ProviderView | null };
/** Where focus goes once a moved row has re-rendered in its new place. */
type Refocus = { name: string; target: 'row' | 'up' | 'down' };

const duration = (ms: number) => (ms >= 10_000 ? `${Math.round(ms / 1000)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${formatCount(ms)} ms`);

/** The provider a row (or any control inside it) belongs to: its name cell carries it. */
const providerOfRow = (el: Element | null) => el?.closest('tr')?.querySelector<HTMLElement>('[data-provider]')?.dataset.provider ?? null;

export function ProvidersPage() {
  const trpc = useTRPC();
  const me = useMe();
  const admin = isAdmin(me);
  const queryClient = useQueryClient();
  const toast = useToast();
  const [showArchived, setShowArchived] = useState(false);
  const listInput = showArchived ? { includeArchived: true } : undefined;
  const providers = useQuery(trpc.admin.providers.list.queryOptions(listInput, { refetchInterval: 30_000 }));
  const rows = providers.data;
  const [archiving, setArchiving] = useState<{ provider: ProviderView; restore: boolean } | null>(null);
  const [edit, setEdit] = useState<EditState>({ open: false });
  const [toggling, setToggling] = useState<ProviderView | null>(null);
  const [testing, setTesting] = useState<ReadonlySet<string>>(new Set());
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  /** Set by a move, applied (once) when the rows come back in their new order. */
  const refocus = useRef<(Refocus & { before: ProviderView[] | undefined }) | null>(null);
  const tableRef = useRef<HTMLDivElement>(null);

  // Memoised: a fresh key array each render would make `move` below a new function each render.
  const listKey = useMemo(() => trpc.admin.providers.list.queryKey(showArchived ? { includeArchived: true } : undefined), [trpc, showArchived]);
  const reorder = useMutation(
    trpc.admin.providers.reorder.mutationOptions({
      // The new order shows at once; the server's answer (and its priorities 10, 20, 30…) follows.
      onMutate: async ({ names }) => {
        await queryClient.cancelQueries({ queryKey: listKey });
        const before = queryClient.getQueryData(listKey);
        queryClient.setQueryData(listKey, (old) =>
          old
            ? [
                ...names.flatMap((n, i) => old.filter((p) => p.name === n).map((p) => ({ ...p, priority: (i + 1) * 10 }))),
                ...old.filter((p) => p.archivedAt),
              ]
            : old,
        );
        return { before };
      },
      onError: (err, _vars, saved) => {
        if (saved?.before) queryClient.setQueryData(listKey, saved.before);
        toast.show(`The order was not changed: ${errorMessage(err)}`, 'error');
      },
      onSettled: () => queryClient.invalidateQueries(trpc.admin.providers.pathFilter()),
    }),
  );

  const testNow = useMutation(
    trpc.admin.providers.testNow.mutationOptions({
      onMutate: ({ name }) => setTesting((s) => new Set(s).add(name)),
      onSuccess: (r) =>
        r.ok
          ? toast.show(`${r.name} is healthy: answered in ${duration(r.latencyMs)}.`)
          : toast.show(`${r.name} failed its health check${r.detail ? `: ${r.detail}` : '.'}`, 'error'),
      onError: (err, { name }) => toast.show(`Could not test ${name}: ${errorMessage(err)}`, 'error'),
      onSettled: (_r, _e, { name }) => {
        setTesting((s) => {
          const next = new Set(s);
          next.delete(name);
          return next;
        });
        return queryClient.invalidateQueries(trpc.admin.providers.pathFilter());
      },
    }),
  );

  const onArchived = (name: string, restored: boolean) => {
    setArchiving(null);
    toast.show(restored ? `Provider ${name} restored, disabled and last in the order: enable it when it should serve.` : `Provider ${name} archived: the gateway no longer tries it.`);
    void queryClient.invalidateQueries(trpc.admin.providers.pathFilter());
  };
  const archive = useMutation(trpc.admin.providers.archive.mutationOptions({ onSuccess: (_r, v) => onArchived(v.name, false) }));
  const restore = useMutation(trpc.admin.providers.restore.mutationOptions({ onSuccess: (_r, v) => onArchived(v.name, true) }));
  const archiveAction = archiving?.restore ? restore : archive;

  const reorderPending = reorder.isPending;
  const mutateReorder = reorder.mutate;
  const move = useCallback(
    (name: string, by: -1 | 1, target: Refocus['target']) => {
      // Archived providers are not in the fallback order: moves happen among the others alone.
      const names = (queryClient.getQueryData(listKey) ?? []).filter((p) => !p.archivedAt).map((p) => p.name);
      const from = names.indexOf(name);
      const to = from + by;
      if (reorderPending || from < 0 || to < 0 || to >= names.length) return;
      [names[from], names[to]] = [names[to]!, names[from]!];
      refocus.current = { name, target, before: queryClient.getQueryData(listKey) };
      mutateReorder({ names });
    },
    [queryClient, reorderPending, mutateReorder, listKey],
  );

  // React may move the focused row's DOM node to reorder it, which drops focus: put it back.
  useLayoutEffect(() => {
    const want = refocus.current;
    if (!want || rows === want.before || !tableRef.current) return;
    refocus.current = null;
    const row = tableRef.current.querySelector<HTMLElement>(`[data-provider="${CSS.escape(want.name)}"]`)?.closest('tr');
    if (!row) return;
    const button = want.target === 'row' ? null : row.querySelector<HTMLButtonElement>(`button[data-move="${want.target}"]:not(:disabled)`);
    const el = button ?? row;
    if (document.activeElement !== el) el.focus();
  }, [rows]);

  const onTableKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (!admin || !e.altKey || e.ctrlKey || e.metaKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
    const name = providerOfRow(e.target as Element);
    if (!name) return;
    e.preventDefault();
    move(name, e.key === 'ArrowUp' ? -1 : 1, (e.target as Element).tagName === 'TR' ? 'row' : e.key === 'ArrowUp' ? 'up' : 'down');
  };

  const toggleExpanded = useCallback(
    (name: string) =>
      setExpanded((s) => {
        const next = new Set(s);
        if (!next.delete(name)) next.add(name);
        return next;
      }),
    [],
  );

  const runTest = testNow.mutate;
  const count = rows?.filter((p) => !p.archivedAt).length ?? 0;
  const columns = useMemo(
    () => [
      col.accessor('priority', {
        header: 'Priority',
        meta: { align: 'right', width: admin ? 92 : 60 },
        cell: (c) => {
          const p = c.row.original;
          const i = c.row.index;
          return (
            <span className="priority-cell">
              {admin && !p.archivedAt && (
                <span className="move-buttons">
                  <button
                    type="button"
                    className="icon-button move-button"
                    data-move="up"
                    aria-label={`Move ${p.name} up`}
                    title="Move up (Alt+↑)"
                    disabled={i === 0 || reorderPending}
                    onClick={() => move(p.name, -1, 'up')}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    className="icon-button move-button"
                    data-move="down"
                    aria-label={`Move ${p.name} down`}
                    title="Move down (Alt+↓)"
                    disabled={i === count - 1 || reorderPending}
                    onClick={() => move(p.name, 1, 'down')}
                  >
                    ↓
                  </button>
                </span>
              )}
              <span data-testid={`priority-${p.name}`}>{p.archivedAt ? '—' : p.priority}</span>
            </span>
          );
        },
      }),
      col.accessor('name', {
        header: 'Provider',
        meta: { width: 150 },
        cell: (c) => {
          const p = c.row.original;
          return (
            <span className="provider-name" data-provider={p.name}>
              <HealthDot provider={p} />
              <span className="strong mono cell-ellipsis cell-narrow" title={`${p.name}: ${p.baseUrl}${p.model ? ` (${p.model})` : ''}`}>
                {p.name}
              </span>
              {p.archivedAt && (
                <span className="tag" title={`Archived ${formatDateTime(p.archivedAt)}: never tried by the gateway`} data-testid={`archived-${p.name}`}>
                  archived
                </span>
              )}
              {!p.archivedAt && p.kind !== 'local' && !p.apiKeySet && (
                <span className="tag" title="No API key stored: calls will fail">
                  no key
                </span>
              )}
            </span>
          );
        },
      }),
      col.accessor('kind', {
        header: 'Kind',
        meta: { width: 64 },
        cell: (c) => <span title={kindLabels[c.getValue()]}>{c.getValue()}</span>,
      }),
      col.accessor('costPerRequest', {
        header: 'Cost/req',
        meta: { align: 'right', width: 70 },
        cell: (c) => formatUsd(c.getValue()),
      }),
      col.accessor('rateLimitPerMinute', {
        header: 'Rate/min',
        meta: { align: 'right', width: 64 },
        cell: (c) => formatCount(c.getValue()),
      }),
      col.accessor('successRate24h', {
        header: 'Success 24h',
        meta: { align: 'right', width: 112 },
        cell: (c) => {
          const p = c.row.original;
          const rate = p.successRate24h;
          if (rate === null || p.calls24h === 0) return <span className="muted" data-testid={`success-${p.name}`}>no calls</span>;
          return (
            <span title={`${formatCount(p.calls24h)} calls in the last 24 hours (skips not counted)`} data-testid={`success-${p.name}`}>
              <span className={rateClass(rate)}>{formatRate(rate)}</span>
              <span className="cell-sub">
                {' '}
                of {formatCount(p.calls24h)}
              </span>
            </span>
          );
        },
      }),
      col.accessor('latencyP50Ms', {
        header: 'p50',
        meta: { align: 'right', width: 58 },
        cell: (c) => {
          const v = c.getValue();
          return v === null ? <span className="muted">—</span> : <span title="Median latency over 24 h">{duration(v)}</span>;
        },
      }),
      col.accessor('lastError', {
        header: 'Last error',
        meta: { grow: true },
        cell: (c) => {
          const p = c.row.original;
          const open = expanded.has(p.name);
          // Two sources, one cell: the last failed call, and the last failed health check (kept after a later pass).
          const health = p.lastHealthError && (
            <span
              className="health-error"
              data-testid={`health-error-${p.name}`}
              title={`Last failed health check ${formatDateTime(p.lastHealthErrorAt)}: ${p.lastHealthError}${p.lastHealthOk ? ` (passed since, ${formatDateTime(p.lastHealthCheck)})` : ''}`}
            >
              {p.lastHealthErrorAt && <time dateTime={p.lastHealthErrorAt}>{formatRelative(p.lastHealthErrorAt)}</time>} health check: {p.lastHealthError}
            </span>
          );
          if (!p.lastError) return health || <span className="muted">—</span>;
          return (
            <span className="cell-stack">
              <button
                type="button"
                className={open ? 'cell-error cell-error-open' : 'cell-error'}
                aria-expanded={open}
                title={`${formatDateTime(p.lastErrorAt)}: ${p.lastError}`}
                onClick={() => toggleExpanded(p.name)}
                data-testid={`last-error-${p.name}`}
              >
                {p.lastErrorAt && <time dateTime={p.lastErrorAt}>{formatRelative(p.lastErrorAt)}</time>} {p.lastError}
              </button>
              {health}
            </span>
          );
        },
      }),
      col.accessor('circuit', {
        header: 'Circuit',
        meta: { width: 76 },
        cell: (c) => <CircuitBadge circuit={c.getValue()} />,
      }),
      col.accessor('poolBalance', {
        header: 'Pool',
        meta: { align: 'right', width: 76 },
        cell: (c) => {
          const p = c.row.original;
          if (p.kind === 'local') return <span className="muted" title="The local provider runs on this server and draws no pool">free (local)</span>;
          if (p.poolBalance === null)
            return (
              <span className="balance-low" title={`No pool named ${p.name}: requests skip this provider until one exists (Pools page)`}>
                no pool
              </span>
            );
          return (
            <span className={p.poolBalance === 0 ? 'balance-zero' : undefined} title="Credits left in its pool">
              {formatCount(p.poolBalance)}
            </span>
          );
        },
      }),
      col.accessor('isActive', {
        header: 'Active',
        meta: { width: 56 },
        cell: (c) => {
          const p = c.row.original;
          if (p.archivedAt) return <span className="badge badge-muted">archived</span>;
          return admin ? (
            <input
              type="checkbox"
              role="switch"
              className="switch"
              checked={p.isActive}
              aria-label={`Active: ${p.name}`}
              title={p.isActive ? 'Active: click to disable' : 'Disabled: click to enable'}
              onChange={() => setToggling(p)}
              data-testid={`active-${p.name}`}
            />
          ) : p.isActive ? (
            <span className="badge badge-ok">active</span>
          ) : (
            <span className="badge badge-muted">disabled</span>
          );
        },
      }),
      ...(admin
        ? [
            col.display({
              id: 'actions',
              header: () => <span className="sr-only">Actions</span>,
              meta: { align: 'right', width: 118 },
              cell: (c) => {
                const p = c.row.original;
                const busy = testing.has(p.name);
                if (p.archivedAt) {
                  return (
                    <span className="row-actions">
                      <button type="button" className="button button-small" aria-label={`Restore ${p.name}`} onClick={() => setArchiving({ provider: p, restore: true })}>
                        Restore
                      </button>
                    </span>
                  );
                }
                return (
                  <span className="row-actions">
                    <button type="button" className="button button-small" aria-label={`Test ${p.name} now`} disabled={busy} onClick={() => runTest({ name: p.name })}>
                      {busy ? 'Testing…' : 'Test now'}
                    </button>
                    <button type="button" className="button button-small" aria-label={`Edit ${p.name}`} onClick={() => setEdit({ open: true, provider: p })}>
                      Edit
                    </button>
                  </span>
                );
              },
            }),
          ]
        : []),
    ],
    [admin, count, reorderPending, move, expanded, toggleExpanded, testing, runTest],
  );

  const active = rows?.filter((p) => p.isActive).length ?? 0;
  const resetArchive = archive.reset;
  const resetRestore = restore.reset;
  const nextPriority = rows?.length ? Math.min(10_000, Math.max(...rows.map((p) => p.priority)) + 10) : 10;

  return (
    <div className="page page-wide">
      <PageHeader
        title="Providers"
        description="The AI providers an enhancement is sent to, tried in priority order. A provider is skipped while disabled, while its circuit is open, or when its pool cannot pay."
        actions={
          admin && (
            <button type="button" className="button button-primary" onClick={() => setEdit({ open: true, provider: null })}>
              Add provider
            </button>
          )
        }
      />
      <section className="section" aria-labelledby="providers-title">
        <div className="section-header">
          <div>
            <h2 id="providers-title">Fallback order</h2>
            <p className="section-description">
              Success rate and median latency over the last 24 hours.
              {admin && (
                <>
                  {' '}
                  Focus a row and press <kbd>Alt</kbd>+<kbd>↑</kbd>/<kbd>↓</kbd> to move it; <kbd>Enter</kbd> edits it.
                </>
              )}
            </p>
          </div>
          <div className="section-stats">
            {rows && rows.length > 0 && (
              <span>
                <span className="muted">Active</span> <strong>{active}</strong> <span className="muted">of {count}</span>
              </span>
            )}
            <label className="toolbar-check">
              <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} />
              Show archived
            </label>
          </div>
        </div>
        {/* role="presentation": it only hears keys bubbling up from the rows' own buttons. */}
        <div className="table-dense" ref={tableRef} onKeyDown={onTableKey} role="presentation">
          <ServerTable
            label="Providers"
            testId="providers-table"
            columns={columns}
            data={rows}
            getRowId={(p) => p.name}
            loading={providers.isPending}
            refreshing={reorderPending}
            error={providers.isError ? errorMessage(providers.error) : null}
            emptyMessage={admin ? 'No providers yet. Add one; the local provider enhances on this server for free.' : 'No providers yet.'}
            isRowMuted={(p) => !p.isActive || !!p.archivedAt}
            {...(admin
              ? { onRowClick: (p: ProviderView) => !p.archivedAt && setEdit({ open: true, provider: p }), rowLabel: (p: ProviderView) => `Provider ${p.name}${p.archivedAt ? ' (archived)' : ''}` }
              : {})}
          />
        </div>
      </section>

      {admin && <TryEnhancementPanel />}

      {admin && (
        <>
          <ProviderDialog
            open={edit.open}
            provider={edit.open ? edit.provider : null}
            nextPriority={nextPriority}
            onClose={() => setEdit({ open: false })}
            onArchive={(p) => {
              setEdit({ open: false });
              setArchiving({ provider: p, restore: false });
            }}
          />
          <SetActiveDialog provider={toggling} onClose={() => setToggling(null)} />
          <ReasonDialog
            open={archiving !== null}
            title={`${archiving?.restore ? 'Restore' : 'Archive'} ${archiving?.provider.name ?? ''}`}
            message={
              archiving?.restore ? (
                <p>
                  Restore <strong>{archiving.provider.name}</strong>? It comes back disabled and last in the fallback order; enable it when it should serve.
                </p>
              ) : (
                <p>
                  Archive <strong>{archiving?.provider.name}</strong>? The gateway stops trying it and it leaves the fallback order; its calls, ledger
                  entries and pool keep their history. You can restore it later.
                </p>
              )
            }
            confirmLabel={archiving?.restore ? 'Restore provider' : 'Archive provider'}
            busyLabel={archiving?.restore ? 'Restoring…' : 'Archiving…'}
            danger={!archiving?.restore}
            placeholder={archiving?.restore ? 'e.g. contract renewed' : 'e.g. contract ended'}
            busy={archiveAction.isPending}
            error={archiveAction.isError ? errorMessage(archiveAction.error) : null}
            onConfirm={(reason) => archiving && archiveAction.mutate({ name: archiving.provider.name, reason })}
            onClose={() => {
              setArchiving(null);
              resetArchive();
              resetRestore();
            }}
          />
        </>
      )}
    </div>
  );
}
