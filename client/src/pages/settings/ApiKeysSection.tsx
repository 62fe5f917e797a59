import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { ApiKeyView } from '../../../../shared/auth';
import { EditApiKeyDialog } from './EditApiKeyDialog';
import { RotateApiKeyDialog } from './RotateApiKeyDialog';
import { UsageSparkline } from './UsageSparkline';
import { Chips } from '../../components/Chips';
import { DataTable } from '../../components/DataTable';
import { ConfirmDialog } from '../../components/Dialog';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, formatRelative } from '../../lib/format';
import { useTRPC } from '../../trpc';
import { scopeDescriptions, CreateApiKeyDialog } from './CreateApiKeyDialog';
import { SecretPanel } from './SecretPanel';

const col = createColumnHelper<ApiKeyView>();

const keyStatus = (k: ApiKeyView) => (k.revokedAt ? 'revoked' : k.expiresAt && Date.parse(k.expiresAt) <= Date.now() ? 'expired' : 'active');

export function ApiKeysSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const keys = useQuery(trpc.admin.apiKeys.list.queryOptions());
  const usage = useQuery(trpc.admin.apiKeys.usage.queryOptions());
  const usageByKey = useMemo(() => new Map((usage.data ?? []).map((u) => [u.apiKeyId, u])), [usage.data]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ name: string; secret: string; note?: string } | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyView | null>(null);
  const [rotating, setRotating] = useState<ApiKeyView | null>(null);
  const [editing, setEditing] = useState<ApiKeyView | null>(null);

  const revoke = useMutation(
    trpc.admin.apiKeys.revoke.mutationOptions({
      onSuccess: (key) => {
        toast.show(`API key “${key.name}” revoked.`);
        setRevoking(null);
        void queryClient.invalidateQueries(trpc.admin.apiKeys.list.queryFilter());
      },
    }),
  );

  const resetRevoke = revoke.reset;
  const columns = useMemo(
    () => [
      col.accessor('name', {
        header: 'Name',
        cell: (c) => (
          <span className="key-name">
            <span className="strong">{c.getValue()}</span>
            <code className="muted">{c.row.original.prefix}…</code>
          </span>
        ),
      }),
      col.accessor('scopes', {
        header: 'Scopes',
        enableSorting: false,
        cell: (c) => <Chips values={c.getValue()} title={(s) => scopeDescriptions[s]} />,
      }),
      col.accessor('createdAt', {
        header: 'Created',
        meta: { width: 130 },
        cell: (c) => <time dateTime={c.getValue()}>{formatDateTime(c.getValue())}</time>,
      }),
      col.accessor('lastUsedAt', {
        header: 'Last used',
        meta: { width: 110 },
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
      col.accessor('expiresAt', {
        header: 'Expires',
        meta: { width: 130 },
        sortUndefined: 'last',
        cell: (c) => {
          const k = c.row.original;
          return (
            <span className="key-expiry">
              {k.expiresAt ? <time dateTime={k.expiresAt}>{formatDateTime(k.expiresAt)}</time> : <span className="muted">never</span>}
              {k.previousExpiresAt && (
                <span className="field-hint" data-testid="previous-secret">
                  old <code>{k.previousPrefix}…</code> until {formatDateTime(k.previousExpiresAt)}
                </span>
              )}
            </span>
          );
        },
      }),
      col.display({
        id: 'usage',
        header: 'Calls, 30 days',
        meta: { width: 130 },
        cell: (c) => <UsageSparkline usage={usageByKey.get(c.row.original.id)} />,
      }),
      col.accessor(keyStatus, {
        id: 'status',
        header: 'Status',
        meta: { width: 90 },
        cell: (c) =>
          c.getValue() === 'revoked' ? (
            <span className="badge badge-muted" title={`Revoked ${formatDateTime(c.row.original.revokedAt)}`}>
              Revoked
            </span>
          ) : c.getValue() === 'expired' ? (
            <span className="badge badge-muted">Expired</span>
          ) : (
            <span className="badge badge-ok">Active</span>
          ),
      }),
      col.display({
        id: 'actions',
        header: () => <span className="sr-only">Actions</span>,
        meta: { align: 'right', width: 200 },
        cell: (c) =>
          c.row.original.revokedAt ? null : (
            <span className="row-actions">
              <button type="button" className="button button-small" onClick={() => setEditing(c.row.original)} aria-label={`Edit ${c.row.original.name}`}>
                Edit
              </button>
              {keyStatus(c.row.original) === 'active' && (
                <button type="button" className="button button-small" onClick={() => setRotating(c.row.original)} aria-label={`Rotate ${c.row.original.name}`}>
                  Rotate
                </button>
              )}
              <button
                type="button"
                className="button button-small button-danger-quiet"
                onClick={() => {
                  resetRevoke();
                  setRevoking(c.row.original);
                }}
                aria-label={`Revoke ${c.row.original.name}`}
              >
                Revoke
              </button>
            </span>
          ),
      }),
    ],
    [resetRevoke, usageByKey],
  );

  return (
    <section className="section" aria-labelledby="api-keys-title">
      <div className="section-header">
        <div>
          <h2 id="api-keys-title">API keys</h2>
          <p className="section-description">
            Product apps call the public API with <code>Authorization: Bearer &lt;key&gt;</code>. Give each app its own key with only the scopes it needs.
          </p>
        </div>
        <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
          Create API key
        </button>
      </div>

      {created && <SecretPanel name={created.name} secret={created.secret} note={created.note} onDone={() => setCreated(null)} />}

      <DataTable
        label="API keys"
        testId="api-keys-table"
        columns={columns}
        data={keys.data}
        loading={keys.isPending}
        error={keys.isError ? errorMessage(keys.error) : null}
        getRowId={(k) => k.id}
        isRowMuted={(k) => k.revokedAt !== null}
        emptyMessage="No API keys yet. Create one for each product app that calls Creditdesk."
        initialSorting={[{ id: 'createdAt', desc: true }]}
      />

      <CreateApiKeyDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(name, secret) => {
          setCreating(false);
          setCreated({ name, secret });
          toast.show(`API key “${name}” created.`);
          void queryClient.invalidateQueries(trpc.admin.apiKeys.list.queryFilter());
          void queryClient.invalidateQueries(trpc.admin.apiKeys.usage.queryFilter());
        }}
      />

      {rotating && (
        <RotateApiKeyDialog
          apiKey={rotating}
          onClose={() => setRotating(null)}
          onRotated={(result, note) => {
            setRotating(null);
            setCreated({ name: result.apiKey.name, secret: result.secret, note });
            toast.show(`API key “${result.apiKey.name}” rotated.`);
            void queryClient.invalidateQueries(trpc.admin.apiKeys.list.queryFilter());
          }}
        />
      )}

      {editing && (
        <EditApiKeyDialog
          apiKey={editing}
          onClose={() => setEditing(null)}
          onSaved={(key) => {
            setEditing(null);
            toast.show(`API key “${key.name}” saved.`);
            void queryClient.invalidateQueries(trpc.admin.apiKeys.list.queryFilter());
          }}
        />
      )}

      <ConfirmDialog
        open={revoking !== null}
        title="Revoke API key"
        message={
          <p>
            Revoke <strong>{revoking?.name}</strong> (<code>{revoking?.prefix}…</code>)? Apps using it are refused from now on. This cannot be undone.
          </p>
        }
        confirmLabel="Revoke key"
        busyLabel="Revoking…"
        danger
        busy={revoke.isPending}
        error={revoke.isError ? errorMessage(revoke.error) : null}
        onConfirm={() => revoking && revoke.mutate({ id: revoking.id })}
        onClose={() => setRevoking(null)}
      />
    </section>
  );
}
