import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { ProviderView } from '../../../shared/providers';
import { isAdmin, useMe } from '../auth';
import { PageHeader } from '../components/EmptyState';
import { DataTable } from '../components/DataTable';
import { useToast } from '../components/Toasts';
import { errorMessage } from '../lib/errors';
import { useTRPC } from '../trpc';
import { ArchiveProviderDialog } from './providers/ArchiveProviderDialog';
import { ProviderDialog } from './providers/ProviderDialog';
import { duration, providerColumns, type EditState, type Refocus } from './providers/providers-columns';
import { SetActiveDialog } from './providers/SetActiveDialog';
import { TryEnhancementPanel } from './providers/TryEnhancementPanel';

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
          old ? [...names.flatMap((n, i) => old.filter((p) => p.name === n).map((p) => ({ ...p, priority: (i + 1) * 10 }))), ...old.filter((p) => p.archivedAt)] : old,
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
        r.ok ? toast.show(`${r.name} is healthy: answered in ${duration(r.latencyMs)}.`) : toast.show(`${r.name} failed its health check${r.detail ? `: ${r.detail}` : '.'}`, 'error'),
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
    () => providerColumns({ admin, count, reorderPending, move, expanded, toggleExpanded, testing, runTest, onToggle: setToggling, onArchive: setArchiving, onEdit: setEdit }),
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
          <DataTable
            manual
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
          <ArchiveProviderDialog
            archiving={archiving}
            action={archiveAction}
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
