import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { Link } from 'wouter';
import type { z } from 'zod';
import { purchaseRequestStatusSchema, type purchaseRequestSchema } from '../../../../shared/pools';
import { isAdmin, useMe } from '../../auth';
import { formatCount, formatUsd, parseMicros } from '../../components/Amount';
import { ExportLink } from '../../components/ExportLink';
import { ReasonDialog } from '../../components/ReasonDialog';
import { DataTable } from '../../components/DataTable';
import { Pager } from '../../components/Pager';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, formatRelative } from '../../lib/format';
import { useTRPC } from '../../trpc';
import { RequestStatusBadge, requestStatusLabels, type RequestStatus } from './badges';

type PurchaseRequest = z.infer<typeof purchaseRequestSchema>;
type Decision = { kind: 'approve' | 'reject'; request: PurchaseRequest };

const PAGE_SIZE = 25;
const col = createColumnHelper<PurchaseRequest>();
// Waiting for a decision first: that is what an admin comes here for.
const statusOptions: (RequestStatus | 'all')[] = ['pending_manual_approval', 'all', ...purchaseRequestStatusSchema.options.filter((s) => s !== 'pending_manual_approval')];

export function PurchaseRequestsSection() {
  const trpc = useTRPC();
  const me = useMe();
  const admin = isAdmin(me);
  const queryClient = useQueryClient();
  const toast = useToast();
  const [status, setStatus] = useState<RequestStatus | 'all'>('pending_manual_approval');
  const [paging, setPaging] = useState({ status, page: 0 });
  const page = paging.status === status ? paging.page : 0;
  const [deciding, setDeciding] = useState<Decision | null>(null);

  const requests = useQuery(trpc.admin.purchaseRequests.list.queryOptions({ page, pageSize: PAGE_SIZE, status: status === 'all' ? undefined : status }, { placeholderData: keepPreviousData }));
  const settings = useQuery(trpc.admin.platformSettings.get.queryOptions());

  const afterDecision = () => {
    setDeciding(null);
    // Approving credits the pool: the pools table, the budget and every request list read again.
    void queryClient.invalidateQueries(trpc.admin.purchaseRequests.pathFilter());
    void queryClient.invalidateQueries(trpc.admin.pools.pathFilter());
    void queryClient.invalidateQueries(trpc.admin.platformSettings.pathFilter());
  };
  const approve = useMutation(
    trpc.admin.purchaseRequests.approve.mutationOptions({
      onSuccess: (r) => {
        afterDecision();
        if (r.status === 'failed') toast.show(`Request #${r.id} approved, but the purchase failed: ${r.errorMessage ?? 'no reason given'}.`, 'error');
        else if (r.status === 'outcome_unknown')
          toast.show(`Request #${r.id} approved, but the purchase outcome is unknown (${r.errorMessage ?? 'no answer'}): it is checked with the provider, never bought twice.`, 'error');
        else if (r.status === 'completed') toast.show(`Request #${r.id} approved: ${formatCount(r.amountRequested)} credits added to ${r.provider}.`);
        else toast.show(`Request #${r.id} approved; buying ${formatCount(r.amountRequested)} credits for ${r.provider}.`);
      },
    }),
  );
  const reject = useMutation(
    trpc.admin.purchaseRequests.reject.mutationOptions({
      onSuccess: (r) => {
        afterDecision();
        toast.show(`Request #${r.id} for ${r.provider} rejected.`);
      },
    }),
  );

  const resetApprove = approve.reset;
  const resetReject = reject.reset;
  const columns = useMemo(
    () => [
      col.accessor('id', { header: '#', meta: { mono: true, width: 50 } }),
      col.accessor('provider', { header: 'Provider', meta: { mono: true }, cell: (c) => <span className="strong">{c.getValue()}</span> }),
      col.accessor('amountRequested', { header: 'Amount', meta: { align: 'right', width: 80 }, cell: (c) => formatCount(c.getValue()) }),
      col.accessor('estimatedCost', { header: 'Est. cost', meta: { align: 'right', width: 84 }, cell: (c) => formatUsd(c.getValue()) }),
      col.accessor('status', { header: 'Status', meta: { width: 124 }, cell: (c) => <RequestStatusBadge status={c.getValue()} /> }),
      col.accessor('trigger', { header: 'Trigger', meta: { width: 60 } }),
      col.accessor((r) => r.errorMessage ?? r.note ?? r.decisionReason, {
        id: 'note',
        header: 'Note',
        meta: { grow: true },
        cell: (c) => {
          const r = c.row.original;
          const parts = [r.note, r.errorMessage && `error: ${r.errorMessage}`, r.decisionReason && `decision: ${r.decisionReason}`].filter(Boolean);
          return parts.length ? (
            <span className={r.errorMessage ? 'table-error' : undefined} title={parts.join('\n')}>
              {parts.join(' · ')}
            </span>
          ) : (
            <span className="muted">—</span>
          );
        },
      }),
      col.accessor('requestedAt', {
        header: 'Requested',
        meta: { width: 124 },
        cell: (c) => (
          <span className="cell-stack" title={`${c.row.original.requestedBy}, ${formatDateTime(c.getValue())}`}>
            <span className="cell-ellipsis cell-narrow">{c.row.original.requestedBy}</span>
            <time className="cell-sub" dateTime={c.getValue()}>
              {formatRelative(c.getValue())}
            </time>
          </span>
        ),
      }),
      col.accessor('decidedBy', {
        header: 'Decided by',
        meta: { width: 124 },
        cell: (c) => {
          const r = c.row.original;
          return r.decidedBy ? (
            <span className="cell-stack" title={`${r.decidedBy}, ${formatDateTime(r.decidedAt)}${r.decisionReason ? `: ${r.decisionReason}` : ''}`}>
              <span className="cell-ellipsis cell-narrow">{r.decidedBy}</span>
              {r.decidedAt && <time className="cell-sub">{formatRelative(r.decidedAt)}</time>}
            </span>
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
              meta: { align: 'right', width: 136 },
              cell: (c) => {
                const r = c.row.original;
                if (r.status !== 'pending_manual_approval') return null;
                return (
                  <span className="row-actions">
                    <button
                      type="button"
                      className="button button-small button-primary"
                      aria-label={`Approve request ${r.id}`}
                      onClick={() => {
                        resetApprove();
                        setDeciding({ kind: 'approve', request: r });
                      }}
                    >
                      Approve
                    </button>
                    <button
                      type="button"
                      className="button button-small button-danger-quiet"
                      aria-label={`Reject request ${r.id}`}
                      onClick={() => {
                        resetReject();
                        setDeciding({ kind: 'reject', request: r });
                      }}
                    >
                      Reject
                    </button>
                  </span>
                );
              },
            }),
          ]
        : []),
    ],
    [admin, resetApprove, resetReject],
  );

  const s = settings.data;
  const capped = s ? (parseMicros(s.monthlyRevenueUsd) ?? 0n) > 0n : false;
  const decision = deciding ? (deciding.kind === 'approve' ? approve : reject) : null;
  const r = deciding?.request;

  return (
    <section className="section" aria-labelledby="requests-title">
      <div className="section-header">
        <div>
          <h2 id="requests-title">Purchase requests</h2>
          <p className="section-description">
            Every refill, automatic or manual. Refills over the month&rsquo;s credit budget wait here for an admin.{' '}
            {s && (
              <span data-testid="budget-line">
                {capped ? (
                  <>
                    Budget {formatUsd(s.budgetUsd)}, spent {formatUsd(s.spentThisMonthUsd)} this month.
                  </>
                ) : (
                  <>No budget cap is set.</>
                )}{' '}
                <Link href="/settings">Budget &amp; reserves</Link>
              </span>
            )}
          </p>
        </div>
        <label className="toolbar-field">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as RequestStatus | 'all')} aria-label="Status filter">
            {statusOptions.map((o) => (
              <option key={o} value={o}>
                {o === 'all' ? 'All statuses' : requestStatusLabels[o]}
              </option>
            ))}
          </select>
        </label>
        <ExportLink name="purchase-requests" filter={{ status: status === 'all' ? undefined : status }} />
      </div>

      <div className="table-dense">
        <DataTable
          manual
          label="Purchase requests"
          testId="purchase-requests-table"
          columns={columns}
          data={requests.data?.rows}
          getRowId={(x) => x.id}
          loading={requests.isPending}
          refreshing={requests.isPlaceholderData}
          error={requests.isError ? errorMessage(requests.error) : null}
          emptyMessage={status === 'pending_manual_approval' ? 'Nothing waits for approval.' : 'No purchase requests.'}
          isRowMuted={(x) => x.status === 'rejected'}
        />
      </div>
      <Pager page={page} pageSize={PAGE_SIZE} total={requests.data?.total} onPage={(p) => setPaging({ status, page: p })} noun="requests" />

      {admin && (
        <ReasonDialog
          open={deciding !== null}
          title={deciding?.kind === 'approve' ? `Approve request #${r?.id}` : `Reject request #${r?.id}`}
          message={
            r && (
              <p>
                {deciding?.kind === 'approve' ? 'Buy' : 'Turn down buying'} <strong>{formatCount(r.amountRequested)}</strong> credits for the <strong>{r.provider}</strong> pool at about{' '}
                <strong>{formatUsd(r.estimatedCost)}</strong>?{r.note && <span className="confirm-note">{r.note}</span>}
              </p>
            )
          }
          confirmLabel={deciding?.kind === 'approve' ? 'Approve' : 'Reject'}
          busyLabel={deciding?.kind === 'approve' ? 'Approving…' : 'Rejecting…'}
          danger={deciding?.kind === 'reject'}
          placeholder={deciding?.kind === 'approve' ? 'e.g. approved by finance' : 'e.g. not needed this month'}
          busy={decision?.isPending}
          error={decision?.isError ? errorMessage(decision.error) : null}
          onConfirm={(reason) => {
            if (!deciding) return;
            const input = { id: deciding.request.id, reason };
            if (deciding.kind === 'approve') approve.mutate(input);
            else reject.mutate(input);
          }}
          onClose={() => setDeciding(null)}
        />
      )}
    </section>
  );
}
