import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { TransactionView } from '../../../../shared/credits';
import { isAdmin, useMe } from '../../auth';
import { formatCount } from '../../components/Amount';
import { ReasonDialog } from '../../components/ReasonDialog';
import { DataTable } from '../../components/DataTable';
import { LoadMore } from '../../components/LoadMore';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { useTRPC } from '../../trpc';
import { GrantBreakdown } from './GrantBreakdown';
import { TierBadge } from './TierBadge';
import { historyColumns, typeLabel } from './user-history-columns';
import { AdjustDialog, GrantDialog, TierDialog } from './UserActions';
import { useReturnFocus } from '../../lib/return-focus';
import { Skeleton } from '../../components/Skeleton';

const HISTORY_PAGE = 25;

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
  const history = useInfiniteQuery(trpc.admin.users.history.infiniteQueryOptions({ userId, limit: HISTORY_PAGE }, { getNextPageParam: (last) => last.nextCursor ?? undefined }));
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
        toast.show(
          `Refunded ${formatCount(result.transaction.creditsDelta)} credit${result.transaction.creditsDelta === 1 ? '' : 's'} to ${userId}. Balance: ${formatCount(result.balance.currentBalance)}.`,
        );
        void refresh();
      },
    }),
  );

  const resetRefund = refund.reset;
  const columns = useMemo(() => historyColumns({ admin, resetRefund, setRefunding }), [admin, resetRefund]);

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

        {u && (
          <>
            <div className="drawer-section-header">
              <h3>Credit sources</h3>
              <span className="muted">spent top to bottom: priority, then soonest expiry, then oldest</span>
            </div>
            <GrantBreakdown userId={userId} grants={u.grants} />
          </>
        )}

        <div className="drawer-section-header">
          <h3>Credit history</h3>
          <span className="muted">{items ? `${formatCount(items.length)}${history.hasNextPage ? '+' : ''} entries, newest first` : ''}</span>
        </div>
        <DataTable
          manual
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
        <LoadMore query={history} />
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
                  Give {formatCount(refunding.creditsUsed)} credit{refunding.creditsUsed === 1 ? '' : 's'} of transaction <code>#{refunding.transactionId}</code> (
                  {typeLabel(refunding.type).toLowerCase()}
                  {refunding.enhancementType ? `, ${refunding.enhancementType}` : ''}, {formatDateTime(refunding.createdAt)}) back to <strong>{userId}</strong>?
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
