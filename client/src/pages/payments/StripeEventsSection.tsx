import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { stripeEventOutcomes, type StripeEventOutcome, type StripeEventView } from '../../../../shared/payments';
import { formatCount } from '../../components/Amount';
import { DataTable } from '../../components/DataTable';
import { LoadMore } from '../../components/LoadMore';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { useTRPC } from '../../trpc';

const eventCol = createColumnHelper<StripeEventView>();
const outcomeBadge: Record<StripeEventOutcome, string> = { processed: 'badge-ok', ignored: 'badge-muted', failed: 'badge-warn', refused: 'badge-warn' };
const PAGE = 50;

/** Every Stripe event received, newest first, a page at a time; admins apply a failed one again. */
export function StripeEventsSection({ admin }: { admin: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [outcome, setOutcome] = useState<StripeEventOutcome | ''>('');
  const events = useInfiniteQuery({
    ...trpc.admin.payments.events.list.infiniteQueryOptions({ limit: PAGE, ...(outcome ? { outcome } : {}) }, { getNextPageParam: (last) => last.nextCursor ?? undefined }),
    refetchInterval: 10_000,
  });
  const items = useMemo(() => events.data?.pages.flatMap((p) => p.items), [events.data]);

  const retry = useMutation(
    trpc.admin.payments.events.retry.mutationOptions({
      onSuccess: (e) => {
        if (e.outcome === 'failed') toast.show(`Retry of ${e.eventId ?? e.id} failed again: ${e.error ?? 'no error recorded'}`, 'error');
        else toast.show(`${e.eventId ?? e.id} retried: ${e.outcome}${e.reason ? `, ${e.reason}` : ''}.`);
      },
      onError: (err) => toast.show(errorMessage(err), 'error'),
      onSettled: () => void queryClient.invalidateQueries(trpc.admin.payments.events.list.pathFilter()),
    }),
  );
  const { mutate: retryEvent, isPending: retrying, variables: retried } = retry;

  const columns = useMemo(
    () => [
      eventCol.accessor('receivedAt', { header: 'Received', cell: (c) => <time dateTime={c.getValue()}>{formatDateTime(c.getValue())}</time> }),
      eventCol.accessor('type', { header: 'Event', cell: (c) => <code>{c.getValue() ?? '(unverified)'}</code> }),
      eventCol.accessor('outcome', {
        header: 'Outcome',
        cell: (c) => <span className={`badge ${outcomeBadge[c.getValue()]}`}>{c.getValue()}</span>,
      }),
      eventCol.display({
        id: 'detail',
        header: 'Detail',
        meta: { grow: true },
        cell: (c) => {
          const e = c.row.original;
          const text = e.error ?? e.reason ?? '';
          return <span title={text}>{text}</span>;
        },
      }),
      eventCol.accessor('userId', { header: 'User', cell: (c) => c.getValue() ?? '—' }),
      eventCol.display({
        id: 'credits',
        header: 'Credits',
        meta: { align: 'right' },
        cell: (c) => {
          const e = c.row.original;
          if (e.creditsDelta === null && e.creditsLost === null) return '—';
          return `${e.creditsDelta !== null && e.creditsDelta > 0 ? '+' : ''}${e.creditsDelta ?? 0}${e.creditsLost ? ` (${e.creditsLost} lost)` : ''}`;
        },
      }),
      eventCol.accessor('attempts', { header: 'Attempts', meta: { align: 'right' } }),
      eventCol.accessor('eventId', { header: 'Stripe id', meta: { mono: true }, cell: (c) => c.getValue() ?? '—' }),
      eventCol.display({
        id: 'actions',
        header: () => <span className="sr-only">Actions</span>,
        meta: { align: 'right' },
        cell: (c) => {
          const e = c.row.original;
          if (!admin || e.outcome !== 'failed') return null;
          const busy = retrying && retried?.id === e.id;
          return (
            <button type="button" className="button button-small" aria-label={`Retry ${e.eventId ?? e.id}`} disabled={retrying} onClick={() => retryEvent({ id: e.id })}>
              {busy ? 'Retrying…' : 'Retry'}
            </button>
          );
        },
      }),
    ],
    [admin, retryEvent, retrying, retried],
  );

  return (
    <section className="section" aria-labelledby="stripe-events-title">
      <div className="section-header">
        <div>
          <h2 id="stripe-events-title">Events received</h2>
          <p className="section-description">
            Newest first{items ? `: ${formatCount(items.length)}${events.hasNextPage ? '+' : ''} shown` : ''}. Refused: the signature did not hold, nothing was changed. Failed: the event&apos;s
            effects were rolled back; Stripe sends it again, or an admin retries it once the cause is fixed.
          </p>
        </div>
        <label className="field">
          <span>Outcome</span>
          <select value={outcome} onChange={(e) => setOutcome(e.target.value as StripeEventOutcome | '')} aria-label="Outcome">
            <option value="">All</option>
            {stripeEventOutcomes.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
      </div>
      <DataTable
        label="Stripe events"
        testId="stripe-events-table"
        columns={columns}
        data={items}
        loading={events.isPending}
        error={events.isError ? errorMessage(events.error) : null}
        getRowId={(e) => e.id}
        isRowMuted={(e) => e.outcome === 'ignored'}
        emptyMessage={outcome ? `No ${outcome} events.` : 'No Stripe events received yet.'}
      />
      <LoadMore query={events} label="Load older events" />
    </section>
  );
}
