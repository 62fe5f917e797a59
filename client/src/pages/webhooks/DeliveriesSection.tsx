import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { WebhookDeliveryView, WebhookEndpointView } from '../../../../shared/webhooks';
import { DataTable } from '../../components/DataTable';
import { Pager } from '../../components/Pager';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { useTRPC } from '../../trpc';

const PAGE_SIZE = 25;
const col = createColumnHelper<WebhookDeliveryView>();

const statusBadge = (s: WebhookDeliveryView['status']) =>
  s === 'delivered' ? <span className="badge badge-ok">Delivered</span> : s === 'failed' ? <span className="badge badge-danger">Failed</span> : <span className="badge badge-warn">Pending</span>;

/** What the receiver answered each time, newest first. */
function AttemptLog({ d }: { d: WebhookDeliveryView }) {
  if (!d.recentAttempts.length) return <span className="muted">not tried yet</span>;
  return (
    <ul className="webhook-attempts">
      {d.recentAttempts.map((a, i) => (
        <li key={i}>
          <time dateTime={a.attemptedAt}>{formatDateTime(a.attemptedAt)}</time>{' '}
          <span className={a.responseStatus && a.responseStatus < 300 ? 'strong' : 'field-error-inline'}>{a.responseStatus ? `HTTP ${a.responseStatus}` : (a.error ?? 'failed')}</span>{' '}
          <span className="muted">{a.durationMs} ms</span>
        </li>
      ))}
    </ul>
  );
}

/** One endpoint's deliveries with every attempt; admins can queue one again (same webhook-id). */
export function DeliveriesSection({ endpoint, admin }: { endpoint: WebhookEndpointView; admin: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [page, setPage] = useState(0);
  const deliveries = useQuery({
    ...trpc.admin.webhooks.deliveries.queryOptions({ endpointId: endpoint.id, page, pageSize: PAGE_SIZE }),
    placeholderData: keepPreviousData,
    refetchInterval: 5_000,
  });
  const replay = useMutation(
    trpc.admin.webhooks.replay.mutationOptions({
      onSuccess: (r) => {
        toast.show(`Delivery ${r.msgId} queued again.`);
        void queryClient.invalidateQueries(trpc.admin.webhooks.deliveries.queryFilter());
      },
      onError: (err) => toast.show(errorMessage(err)),
    }),
  );

  const columns = useMemo(
    () => [
      col.accessor('eventType', { header: 'Event', cell: (c) => <code>{c.getValue()}</code> }),
      col.accessor('msgId', { header: 'webhook-id', meta: { mono: true }, cell: (c) => <span className="muted">{c.getValue()}</span> }),
      col.accessor('status', { header: 'Status', cell: (c) => statusBadge(c.getValue()) }),
      col.accessor('attempts', { header: 'Attempts' }),
      col.display({ id: 'log', header: 'Attempt log', meta: { grow: true }, cell: (c) => <AttemptLog d={c.row.original} /> }),
      col.accessor('nextAttemptAt', {
        header: 'Next attempt',
        cell: (c) => (c.getValue() ? <time dateTime={c.getValue()!}>{formatDateTime(c.getValue())}</time> : <span className="muted">—</span>),
      }),
      col.display({
        id: 'actions',
        header: () => <span className="sr-only">Actions</span>,
        cell: (c) =>
          admin ? (
            <button
              type="button"
              className="button button-small"
              disabled={replay.isPending}
              onClick={() => replay.mutate({ deliveryId: c.row.original.id })}
              aria-label={`Replay ${c.row.original.msgId}`}
            >
              Replay
            </button>
          ) : null,
      }),
    ],
    [admin, replay],
  );

  return (
    <section className="section" aria-labelledby="webhook-deliveries-title">
      <div className="section-header">
        <div>
          <h2 id="webhook-deliveries-title">Deliveries to {endpoint.url}</h2>
          <p className="section-description">Every event sent to this endpoint, with what the receiver answered on each attempt. Failed attempts are retried with backoff for 24 hours.</p>
        </div>
      </div>
      <div className="table-dense">
        <DataTable
          manual
          label="Webhook deliveries"
          testId="webhook-deliveries-table"
          columns={columns}
          data={deliveries.data?.rows}
          getRowId={(d) => d.id}
          loading={deliveries.isPending}
          refreshing={deliveries.isPlaceholderData}
          error={deliveries.isError ? errorMessage(deliveries.error) : null}
          emptyMessage="Nothing sent to this endpoint yet."
        />
      </div>
      <Pager page={page} pageSize={PAGE_SIZE} total={deliveries.data?.total} onPage={setPage} noun="deliveries" />
    </section>
  );
}
