import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { createApiKeyInputSchema, type ApiKeyView } from '../../../../shared/auth';
import { RotateApiKeyDialog } from './RotateApiKeyDialog';
import { UsageSparkline } from './UsageSparkline';
import { apiKeyScopes, type ApiKeyScope } from '../../../../shared/enums';
import { Chips } from '../../components/Chips';
import { DataTable } from '../../components/DataTable';
import { ConfirmDialog, Dialog } from '../../components/Dialog';
import { ChoiceListField } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, formatRelative } from '../../lib/format';
import { validate, type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

export const scopeDescriptions: Record<ApiKeyScope, string> = {
  'credits:read': 'Read balances and credit history',
  'credits:write': 'Consume, reserve, capture and release credits',
  enhance: 'Run image enhancements',
  'users:write': 'Create users and change their tier',
};

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
        meta: { align: 'right', width: 150 },
        cell: (c) =>
          c.row.original.revokedAt ? null : (
            <span className="row-actions">
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
            Product apps call the public API with <code>Authorization: Bearer &lt;key&gt;</code>. Give each app its own key
            with only the scopes it needs.
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

      <ConfirmDialog
        open={revoking !== null}
        title="Revoke API key"
        message={
          <p>
            Revoke <strong>{revoking?.name}</strong> (<code>{revoking?.prefix}…</code>)? Apps using it are refused from
            now on. This cannot be undone.
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

function CreateApiKeyDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (name: string, secret: string) => void;
}) {
  const trpc = useTRPC();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>([]);
  /** `datetime-local` text in the browser's time zone; empty never expires. */
  const [expires, setExpires] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation(
    trpc.admin.apiKeys.create.mutationOptions({
      onSuccess: (result) => onCreated(result.apiKey.name, result.secret),
    }),
  );

  // A fresh form each time the dialog opens.
  const { reset: resetCreate } = create;
  useEffect(() => {
    if (open) {
      setName('');
      setScopes([]);
      setExpires('');
      setErrors({});
      resetCreate();
    }
  }, [open, resetCreate]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (create.isPending) return;
    const expiresAt = expires ? new Date(expires) : null;
    if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
      setErrors({ expiresAt: 'Choose a time in the future, or leave it empty for a key that never expires.' });
      return;
    }
    const result = validate(createApiKeyInputSchema, { name, scopes, expiresAt: expiresAt?.toISOString() ?? null });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    create.mutate(result.data);
  };


  return (
    <Dialog open={open} title="Create API key" onClose={onClose} width={480}>
      <form onSubmit={submit} noValidate>
        {create.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(create.error)}
          </div>
        )}
        <div className="field">
          <label htmlFor="api-key-name">Name</label>
          <input
            id="api-key-name"
            data-autofocus
            value={name}
            maxLength={100}
            placeholder="e.g. moodboard-web production"
            onChange={(e) => setName(e.target.value)}
            aria-invalid={!!errors.name}
            aria-describedby="api-key-name-hint"
          />
          <div className={errors.name ? 'field-error' : 'field-hint'} id="api-key-name-hint">
            {errors.name ?? 'Names the app and environment that will use the key.'}
          </div>
        </div>
        <ChoiceListField id="api-key-scopes" legend="Scopes" name="scopes" options={apiKeyScopes} descriptions={scopeDescriptions} value={scopes} onChange={setScopes} error={errors.scopes} />
        <div className="field">
          <label htmlFor="api-key-expires">Expires (optional)</label>
          <input
            id="api-key-expires"
            type="datetime-local"
            value={expires}
            onChange={(e) => setExpires(e.target.value)}
            aria-invalid={!!errors.expiresAt}
            aria-describedby="api-key-expires-hint"
          />
          <div className={errors.expiresAt ? 'field-error' : 'field-hint'} id="api-key-expires-hint">
            {errors.expiresAt ?? 'Your local time. Empty: the key works until revoked.'}
          </div>
        </div>
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            {create.isPending ? 'Saving…' : 'Create key'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The new key's secret, shown once: the server stores only its hash. */
function SecretPanel({ name, secret, note, onDone }: { name: string; secret: string; note?: string; onDone: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);

  useEffect(() => {
    ref.current?.focus();
  }, []);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      // Clipboard refused (permissions, insecure origin): select the text so Ctrl+C works.
      inputRef.current?.select();
      setCopied('failed');
    }
  };

  return (
    <div className="secret-panel" ref={ref} tabIndex={-1} role="region" aria-label="New API key secret" data-testid="secret-panel">
      <div className="secret-panel-title">
        <strong>API key “{name}” {note ? 'rotated' : 'created'}.</strong> Copy the key now: <strong>you will not see it again.</strong>{' '}
        Creditdesk keeps only a hash of it.
        {note && <div data-testid="rotation-note">{note}</div>}
      </div>
      <div className="secret-row">
        <input
          ref={inputRef}
          className="mono secret-input"
          readOnly
          value={secret}
          aria-label="API key secret"
          data-testid="api-key-secret"
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" className="button button-primary" onClick={() => void copy()}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="button" onClick={onDone}>
          Done
        </button>
      </div>
      {copied === 'failed' && <div className="field-hint">Copying was blocked by the browser: the key is selected, press Ctrl+C.</div>}
    </div>
  );
}
