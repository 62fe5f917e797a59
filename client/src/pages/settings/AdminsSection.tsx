import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { AdminView } from '../../../../shared/auth';
import type { AdminRole } from '../../../../shared/enums';
import { useMe } from '../../auth';
import { DataTable } from '../../components/DataTable';
import { ConfirmDialog } from '../../components/Dialog';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { useTRPC } from '../../trpc';
import { CreateAdminDialog } from './CreateAdminDialog';

type PendingChange = { kind: 'role'; admin: AdminView; role: AdminRole } | { kind: 'disable' | 'enable'; admin: AdminView };

const col = createColumnHelper<AdminView>();

export function AdminsSection() {
  const trpc = useTRPC();
  const me = useMe();
  const queryClient = useQueryClient();
  const toast = useToast();
  const admins = useQuery(trpc.admin.admins.list.queryOptions());
  const [adding, setAdding] = useState(false);
  /** A generated password, shown once after the account is created. */
  const [generated, setGenerated] = useState<{ email: string; password: string } | null>(null);
  const [pending, setPending] = useState<PendingChange | null>(null);

  const update = useMutation(
    trpc.admin.admins.update.mutationOptions({
      onSuccess: (admin) => {
        const change = pending;
        setPending(null);
        toast.show(
          change?.kind === 'role'
            ? `${admin.email} is now ${admin.role === 'admin' ? 'an admin' : 'an analyst'}.`
            : admin.disabledAt
              ? `${admin.email} is disabled and signed out.`
              : `${admin.email} can sign in again.`,
        );
        void queryClient.invalidateQueries(trpc.admin.admins.list.queryFilter());
      },
    }),
  );

  const resetUpdate = update.reset;
  const columns = useMemo(() => {
    const ask = (change: PendingChange) => {
      resetUpdate();
      setPending(change);
    };
    return [
      col.accessor('email', {
        header: 'Email',
        cell: (c) => (
          <span className="strong">
            {c.getValue()}
            {c.row.original.id === me.id && <span className="tag">you</span>}
            {c.row.original.mustChangePassword && (
              <span className="tag" title="Signs in with a temporary password and must choose their own first">
                must change password
              </span>
            )}
            {c.row.original.totpEnabled && (
              <span className="tag" title="Two-factor sign-in is on">
                2FA
              </span>
            )}
          </span>
        ),
      }),
      col.accessor('role', {
        header: 'Role',
        meta: { width: 90 },
        cell: (c) => <span className={`badge badge-role-${c.getValue()}`}>{c.getValue()}</span>,
      }),
      col.accessor('createdAt', {
        header: 'Created',
        meta: { width: 130 },
        cell: (c) => <time dateTime={c.getValue()}>{formatDateTime(c.getValue())}</time>,
      }),
      col.accessor((a) => (a.disabledAt ? 'disabled' : 'active'), {
        id: 'status',
        header: 'Status',
        meta: { width: 90 },
        cell: (c) =>
          c.getValue() === 'disabled' ? (
            <span className="badge badge-muted" title={`Disabled ${formatDateTime(c.row.original.disabledAt)}`}>
              Disabled
            </span>
          ) : (
            <span className="badge badge-ok">Active</span>
          ),
      }),
      col.display({
        id: 'actions',
        header: () => <span className="sr-only">Actions</span>,
        meta: { align: 'right', width: 190 },
        cell: (c) => {
          const a = c.row.original;
          const self = a.id === me.id;
          const selfTitle = self ? 'You cannot demote or disable your own account.' : undefined;
          const otherRole: AdminRole = a.role === 'admin' ? 'analyst' : 'admin';
          return (
            <span className="row-actions">
              <button
                type="button"
                className="button button-small"
                disabled={self}
                title={selfTitle}
                onClick={() => ask({ kind: 'role', admin: a, role: otherRole })}
                aria-label={`Make ${a.email} ${otherRole}`}
              >
                Make {otherRole}
              </button>
              {a.disabledAt ? (
                <button type="button" className="button button-small" onClick={() => ask({ kind: 'enable', admin: a })} aria-label={`Enable ${a.email}`}>
                  Enable
                </button>
              ) : (
                <button
                  type="button"
                  className="button button-small button-danger-quiet"
                  disabled={self}
                  title={selfTitle}
                  onClick={() => ask({ kind: 'disable', admin: a })}
                  aria-label={`Disable ${a.email}`}
                >
                  Disable
                </button>
              )}
            </span>
          );
        },
      }),
    ];
  }, [me.id, resetUpdate]);

  const confirm = pending ? describe(pending) : null;

  return (
    <section className="section" aria-labelledby="admins-title">
      <div className="section-header">
        <div>
          <h2 id="admins-title">Admin accounts</h2>
          <p className="section-description">People who can sign in here. Admins manage everything; analysts read usage and costs.</p>
        </div>
        <button type="button" className="button button-primary" onClick={() => setAdding(true)}>
          Add account
        </button>
      </div>

      {generated && (
        <div className="secret-panel" role="region" aria-label="Generated password" data-testid="generated-password-panel">
          <div className="secret-panel-title">
            <strong>Account {generated.email} created.</strong> Its generated password is shown once: share it over a secure channel. They choose their own at the first sign-in.
          </div>
          <div className="secret-row">
            <input className="mono secret-input" readOnly value={generated.password} aria-label="Generated password" data-testid="generated-password" onFocus={(e) => e.currentTarget.select()} />
            <button type="button" className="button" onClick={() => setGenerated(null)}>
              Done
            </button>
          </div>
        </div>
      )}

      <DataTable
        label="Admin accounts"
        testId="admins-table"
        columns={columns}
        data={admins.data}
        loading={admins.isPending}
        error={admins.isError ? errorMessage(admins.error) : null}
        getRowId={(a) => a.id}
        isRowMuted={(a) => a.disabledAt !== null}
        initialSorting={[{ id: 'email', desc: false }]}
      />

      <CreateAdminDialog
        open={adding}
        onClose={() => setAdding(false)}
        onCreated={(admin) => {
          setAdding(false);
          setGenerated(admin.generatedPassword ? { email: admin.email, password: admin.generatedPassword } : null);
          toast.show(`Account ${admin.email} created as ${admin.role}.`);
          void queryClient.invalidateQueries(trpc.admin.admins.list.queryFilter());
        }}
      />

      <ConfirmDialog
        open={pending !== null}
        title={confirm?.title ?? ''}
        message={confirm?.message}
        confirmLabel={confirm?.label ?? ''}
        danger={pending?.kind === 'disable'}
        busy={update.isPending}
        error={update.isError ? errorMessage(update.error) : null}
        onConfirm={() => {
          if (!pending) return;
          update.mutate(pending.kind === 'role' ? { id: pending.admin.id, role: pending.role } : { id: pending.admin.id, disabled: pending.kind === 'disable' });
        }}
        onClose={() => setPending(null)}
      />
    </section>
  );
}

function describe(p: PendingChange) {
  const email = <strong>{p.admin.email}</strong>;
  switch (p.kind) {
    case 'role':
      return {
        title: 'Change role',
        label: `Make ${p.role}`,
        message:
          p.role === 'analyst' ? (
            <p>Make {email} an analyst? They keep read access to usage and costs but can no longer change anything.</p>
          ) : (
            <p>Make {email} an admin? They will be able to manage pools, providers, API keys and accounts.</p>
          ),
      };
    case 'disable':
      return {
        title: 'Disable account',
        label: 'Disable account',
        message: <p>Disable {email}? They are signed out at once and cannot sign in until enabled again.</p>,
      };
    case 'enable':
      return { title: 'Enable account', label: 'Enable account', message: <p>Let {email} sign in again?</p> };
  }
}
