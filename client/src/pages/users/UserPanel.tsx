import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { TransactionView } from '../../../../shared/credits';
import { isAdmin, useMe } from '../../auth';
import { Delta, formatCount, formatUsd } from '../../components/Amount';
import { ReasonDialog } from '../../components/ReasonDialog';
import { ServerTable } from '../../components/ServerTable';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, formatRelative } from '../../lib/format';
import { useTRPC } from '../../trpc';
import { TierBadge } from './TierBadge';
import { AdjustDialog, GrantDialog, TierDialog } from './UserActions';
import { useReturnFocus } from '../../lib/return-focus';
import { Skeleton } from '../../components/Skeleton';

const HISTORY_PAGE = 25;

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
const typeLabel = (t: string) => typeLabels[t] ?? t.replaceAll('_', ' ');

/** What the user paid for themselves and has not had back yet. */
const isRefundable = (t: TransactionView) =>
  (t.type === 'consumption' || t.type === 'capture') && t.source === 'user_credits' && t.status !== 'refunded' && t.creditsUsed > 0;

const col = createColumnHelper<TransactionView>();

/** `11-24 14:32` this year, `2024-11-24` before: the full time is in the tooltip. */
function shortTime(iso: string): string {
  const full = formatDateTime(iso);
  return full.slice(0, 4) === String(new Date().getFullYear()) ? full.slice(5) : full.slice(0, 10);
}

type OpenDialog = 'grant' | 'adjust' | 'tier' | null;

/** The side panel of one user: their credit state, their ledger, and (for admins) what can be done. */
export function UserPanel({ userId, onClose }: { userId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const me = useMe();
  const admin = isAdmin(me);
  const queryClient = useQueryClient();
  const toast = useToast();
  const ref = useRef<HTMLElement>(null);
  useReturnFocus(ref);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [refunding, setRefunding] = useState<TransactionView | null>(null);

  const user = useQuery(trpc.admin.users.get.queryOptions({ userId }));
  const history = useInfiniteQuery(
    trpc.admin.users.history.infiniteQueryOptions(
      { userId, limit: HISTORY_PAGE },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const items = useMemo(() => history.data?.pages.flatMap((p) => p.items), [history.data]);

  // Focus moves into the panel when it opens; Escape closes it (a dialog's Escape stays the dialog's).
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented || document.querySelector('dialog[open]')) return;
      onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  /** After any change: the balance, the history and the list row all read again. */
  const refresh = () => queryClient.invalidateQueries(trpc.admin.users.pathFilter());

  const refund = useMutation(
    trpc.admin.users.refund.mutationOptions({
      onSuccess: (result) => {
        setRefunding(null);
        toast.show(`Refunded ${formatCount(result.transaction.creditsDelta)} credit${result.transaction.creditsDelta === 1 ? '' : 's'} to ${userId}. Balance: ${formatCount(result.balance.currentBalance)}.`);
        void refresh();
      },
    }),
  );

  const resetRefund = refund.reset;
  const columns = useMemo(
    () => [
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
          return v ? (
            <span title={v}>{v}</span>
          ) : (
            <span className="muted">—</span>
          );
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
    ],
    [admin, resetRefund],
  );

  const u = user.data;

  return (
    <aside className="drawer" aria-label={`User ${userId}`} data-testid="user-panel" ref={ref} tabIndex={-1}>
      <header className="drawer-header">
        <div className="drawer-title">
          <h2 className="mono">{userId}</h2>
          <div className="drawer-subtitle">
            {u ? (
              <>
                {u.email ?? <span className="muted">no email</span>}
                <span className="dot" aria-hidden>
                  ·
                </span>
                <span className="muted">since {formatDateTime(u.createdAt).slice(0, 10)}</span>
              </>
            ) : (
              !user.isError && <Skeleton lines={1} label="Loading the user" />
            )}
          </div>
        </div>
        <button type="button" className="icon-button" aria-label="Close user panel" title="Close (Esc)" onClick={onClose}>
          ×
        </button>
      </header>

      <div className="drawer-body">
        {user.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(user.error)}
          </div>
        )}

        {u && (
          <>
            <dl className="stat-grid" data-testid="user-stats">
              <div className="stat stat-primary">
                <dt>Balance</dt>
                <dd>
                  <span data-testid="user-balance">{formatCount(u.currentBalance)}</span>
                  <span className="stat-sub">{u.bonusBalance > 0 ? `incl. ${formatCount(u.bonusBalance)} bonus` : 'no bonus'}</span>
                </dd>
              </div>
              <div className="stat">
                <dt>Monthly allowance</dt>
                <dd>{formatCount(u.monthlyAllowance)}</dd>
              </div>
              <div className="stat">
                <dt>Used this month</dt>
                <dd>{formatCount(u.consumedThisMonth)}</dd>
              </div>
              <div className="stat">
                <dt>Tier</dt>
                <dd>
                  <TierBadge tier={u.tier} />
                </dd>
              </div>
              <div className="stat">
                <dt>Lifetime used</dt>
                <dd>{formatCount(u.lifetimeConsumed)}</dd>
              </div>
              <div className="stat">
                <dt>Last reset</dt>
                <dd>
                  <time dateTime={u.lastResetAt} title={formatDateTime(u.lastResetAt)}>
                    {formatDateTime(u.lastResetAt).slice(0, 10)}
                  </time>
                </dd>
              </div>
            </dl>

            {admin && (
              <div className="drawer-actions">
                <button type="button" className="button button-primary" onClick={() => setDialog('grant')}>
                  Grant credits
                </button>
                <button type="button" className="button" onClick={() => setDialog('adjust')}>
                  Adjust balance
                </button>
                <button type="button" className="button" onClick={() => setDialog('tier')}>
                  Change tier
                </button>
              </div>
            )}
          </>
        )}

        <div className="drawer-section-header">
          <h3>Credit history</h3>
          <span className="muted">{items ? `${formatCount(items.length)}${history.hasNextPage ? '+' : ''} entries, newest first` : ''}</span>
        </div>
        <ServerTable
          label={`Credit history of ${userId}`}
          testId="user-history"
          columns={columns}
          data={items}
          getRowId={(t) => t.transactionId}
          loading={history.isPending}
          error={history.isError ? errorMessage(history.error) : null}
          emptyMessage="No credit movements yet."
          isRowMuted={(t) => t.status === 'refunded'}
        />
        {history.hasNextPage && (
          <div className="load-more">
            <button type="button" className="button button-small" onClick={() => void history.fetchNextPage()} disabled={history.isFetchingNextPage}>
              {history.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          </div>
        )}
      </div>

      {admin && u && (
        <>
          <GrantDialog open={dialog === 'grant'} user={u} onClose={() => setDialog(null)} onDone={() => void refresh()} />
          <AdjustDialog open={dialog === 'adjust'} user={u} onClose={() => setDialog(null)} onDone={() => void refresh()} />
          <TierDialog open={dialog === 'tier'} user={u} onClose={() => setDialog(null)} onDone={() => void refresh()} />
          <ReasonDialog
            open={refunding !== null}
            title="Refund transaction"
            message={
              refunding && (
                <p>
                  Give {formatCount(refunding.creditsUsed)} credit{refunding.creditsUsed === 1 ? '' : 's'} of transaction{' '}
                  <code>#{refunding.transactionId}</code> ({typeLabel(refunding.type).toLowerCase()}
                  {refunding.enhancementType ? `, ${refunding.enhancementType}` : ''}, {formatDateTime(refunding.createdAt)}) back to{' '}
                  <strong>{userId}</strong>?
                </p>
              )
            }
            placeholder="e.g. the enhancement came back broken"
            confirmLabel="Refund"
            busyLabel="Refunding…"
            busy={refund.isPending}
            error={refund.isError ? errorMessage(refund.error) : null}
            onConfirm={(reason) => refunding && refund.mutate({ transactionId: refunding.transactionId, reason })}
            onClose={() => setRefunding(null)}
          />
        </>
      )}
    </aside>
  );
}
