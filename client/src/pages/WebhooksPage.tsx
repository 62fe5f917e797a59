import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { WebhookEndpointView } from '../../../shared/webhooks';
import { isAdmin, useMe } from '../auth';
import { Chips } from '../components/Chips';
import { DataTable } from '../components/DataTable';
import { ConfirmDialog } from '../components/Dialog';
import { PageHeader } from '../components/EmptyState';
import { useToast } from '../components/Toasts';
import { errorMessage } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { useTRPC } from '../trpc';
import { CreateEndpointDialog, eventDescriptions } from './webhooks/CreateEndpointDialog';
import { DeliveriesSection } from './webhooks/DeliveriesSection';

const col = createColumnHelper<WebhookEndpointView>();
type Pending = { kind: 'disable' | 'enable' | 'delete' | 'rotate'; endpoint: WebhookEndpointView };

const confirmText: Record<Pending['kind'], { title: string; label: string; busy: string; danger: boolean; message: (url: string) => string }> = {
  disable: { title: 'Disable endpoint', label: 'Disable', busy: 'Disabling…', danger: true, message: (u) => `Stop sending events to ${u}? Events raised while it is disabled are not sent to it.` },
  enable: { title: 'Enable endpoint', label: 'Enable', busy: 'Enabling…', danger: false, message: (u) => `Send events to ${u} again? Its pending deliveries are retried.` },
  delete: { title: 'Delete endpoint', label: 'Delete endpoint', busy: 'Deleting…', danger: true, message: (u) => `Delete ${u} and its delivery log? This cannot be undone.` },
  rotate: {
    title: 'Rotate signing secret',
    label: 'Rotate secret',
    busy: 'Rotating…',
    danger: true,
    message: (u) => `Sign everything sent to ${u} with a new secret from now on? The receiver must switch to the new secret at once.`,
  },
};

export function WebhooksPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const admin = isAdmin(useMe());
  const endpoints = useQuery({ ...trpc.admin.webhooks.list.queryOptions(), refetchInterval: 10_000 });
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ url: string; secret: string; rotated: boolean } | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const selected = endpoints.data?.find((e) => e.id === selectedId) ?? null;

  const refresh = () => void queryClient.invalidateQueries(trpc.admin.webhooks.list.queryFilter());
  const done = (text: string) => {
    toast.show(text);
    setPending(null);
    refresh();
  };
  const update = useMutation(trpc.admin.webhooks.update.mutationOptions({ onSuccess: (e) => done(`Endpoint ${e.url} ${e.status}.`) }));
  const remove = useMutation(
    trpc.admin.webhooks.delete.mutationOptions({
      onSuccess: (e) => {
        if (e.id === selectedId) setSelectedId(null);
        done(`Endpoint ${e.url} deleted.`);
      },
    }),
  );
  const rotate = useMutation(
    trpc.admin.webhooks.rotateSecret.mutationOptions({
      onSuccess: (r) => {
        setSecret({ url: r.endpoint.url, secret: r.secret, rotated: true });
        done(`Secret of ${r.endpoint.url} rotated.`);
      },
    }),
  );
  const active = pending?.kind === 'delete' ? remove : pending?.kind === 'rotate' ? rotate : update;

  const columns = useMemo(
    () => [
      col.accessor('url', { header: 'URL', cell: (c) => <code className="strong">{c.getValue()}</code> }),
      col.accessor('events', {
        header: 'Events',
        enableSorting: false,
        cell: (c) => <Chips values={c.getValue()} title={(t) => eventDescriptions[t]} />,
      }),
      col.accessor('status', {
        header: 'Status',
        cell: (c) => {
          const e = c.row.original;
          if (e.status === 'disabled')
            return (
              <span className="badge badge-muted" title={e.disabledReason ?? undefined}>
                Disabled{e.disabledReason ? `: ${e.disabledReason}` : ''}
              </span>
            );
          if (e.failingSince) return <span className="badge badge-warn">Failing since {formatDateTime(e.failingSince)}</span>;
          return <span className="badge badge-ok">Enabled</span>;
        },
      }),
      col.accessor('createdAt', { header: 'Created', cell: (c) => <time dateTime={c.getValue()}>{formatDateTime(c.getValue())}</time> }),
      col.display({
        id: 'actions',
        header: () => <span className="sr-only">Actions</span>,
        meta: { align: 'right' },
        cell: (c) => {
          const e = c.row.original;
          const ask = (kind: Pending['kind']) => {
            update.reset();
            remove.reset();
            rotate.reset();
            setPending({ kind, endpoint: e });
          };
          return (
            <span className="row-actions">
              <button type="button" className="button button-small" onClick={() => setSelectedId(e.id)} aria-label={`Deliveries of ${e.url}`}>
                Deliveries
              </button>
              {admin && (
                <>
                  <button
                    type="button"
                    className="button button-small"
                    onClick={() => ask(e.status === 'enabled' ? 'disable' : 'enable')}
                    aria-label={`${e.status === 'enabled' ? 'Disable' : 'Enable'} ${e.url}`}
                  >
                    {e.status === 'enabled' ? 'Disable' : 'Enable'}
                  </button>
                  <button type="button" className="button button-small" onClick={() => ask('rotate')} aria-label={`Rotate secret of ${e.url}`}>
                    Rotate secret
                  </button>
                  <button type="button" className="button button-small button-danger-quiet" onClick={() => ask('delete')} aria-label={`Delete ${e.url}`}>
                    Delete
                  </button>
                </>
              )}
            </span>
          );
        },
      }),
    ],
    [admin, update, remove, rotate],
  );

  const text = pending ? confirmText[pending.kind] : null;
  return (
    <div className="page">
      <PageHeader
        title="Webhooks"
        description="Product apps hear of low and depleted balances, monthly resets, expired grants and finished enhancements as signed POSTs (Standard Webhooks). Failed deliveries are retried with backoff for 24 hours; an endpoint failing that long is disabled with an alert."
      />
      <section className="section" aria-labelledby="webhook-endpoints-title">
        <div className="section-header">
          <div>
            <h2 id="webhook-endpoints-title">Endpoints</h2>
            <p className="section-description">
              Verify each request with the endpoint's <code>whsec_…</code> secret and the <code>webhook-id</code>, <code>webhook-timestamp</code> and <code>webhook-signature</code> headers; a repeated{' '}
              <code>webhook-id</code> is the same event sent again.
            </p>
          </div>
          {admin && (
            <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
              Register endpoint
            </button>
          )}
        </div>
        {!admin && <p className="field-hint">Analysts see endpoints and deliveries; only admins change them.</p>}
        {secret && <WebhookSecretPanel {...secret} onDone={() => setSecret(null)} />}
        <DataTable
          label="Webhook endpoints"
          testId="webhook-endpoints-table"
          columns={columns}
          data={endpoints.data}
          loading={endpoints.isPending}
          error={endpoints.isError ? errorMessage(endpoints.error) : null}
          getRowId={(e) => e.id}
          isRowMuted={(e) => e.status === 'disabled'}
          emptyMessage="No endpoints yet. Register one for each product app that should hear of events."
          initialSorting={[{ id: 'createdAt', desc: true }]}
        />
      </section>

      {selected && <DeliveriesSection key={selected.id} endpoint={selected} admin={admin} />}

      <CreateEndpointDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(endpoint, s) => {
          setCreating(false);
          setSecret({ url: endpoint.url, secret: s, rotated: false });
          setSelectedId(endpoint.id);
          toast.show(`Endpoint ${endpoint.url} registered.`);
          refresh();
        }}
      />

      <ConfirmDialog
        open={pending !== null}
        title={text?.title ?? ''}
        message={<p>{pending && text?.message(pending.endpoint.url)}</p>}
        confirmLabel={text?.label ?? ''}
        busyLabel={text?.busy}
        danger={text?.danger}
        busy={active.isPending}
        error={active.isError ? errorMessage(active.error) : null}
        onConfirm={() => {
          if (!pending) return;
          const id = pending.endpoint.id;
          if (pending.kind === 'delete') remove.mutate({ id });
          else if (pending.kind === 'rotate') rotate.mutate({ id });
          else update.mutate({ id, enabled: pending.kind === 'enable' });
        }}
        onClose={() => setPending(null)}
      />
    </div>
  );
}

/** The signing secret, shown once: it is stored sealed and never shown again. */
function WebhookSecretPanel({ url, secret, rotated, onDone }: { url: string; secret: string; rotated: boolean; onDone: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  useEffect(() => ref.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      inputRef.current?.select();
      setCopied('failed');
    }
  };
  return (
    <div className="secret-panel" ref={ref} tabIndex={-1} role="region" aria-label="Webhook signing secret" data-testid="webhook-secret-panel">
      <div className="secret-panel-title">
        <strong>
          Signing secret for {url} {rotated ? 'rotated' : 'created'}.
        </strong>{' '}
        Copy it now: <strong>you will not see it again.</strong>
      </div>
      <div className="secret-row">
        <input ref={inputRef} className="mono secret-input" readOnly value={secret} aria-label="Webhook signing secret" data-testid="webhook-secret" onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="button button-primary" onClick={() => void copy()}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="button" onClick={onDone}>
          Done
        </button>
      </div>
      {copied === 'failed' && <div className="field-hint">Copying was blocked by the browser: the secret is selected, press Ctrl+C.</div>}
    </div>
  );
}
