import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { SessionView } from '../../../../shared/auth';
import { DataTable } from '../../components/DataTable';
import { ConfirmDialog } from '../../components/Dialog';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, formatRelative } from '../../lib/format';
import { isMeQuery, useTRPC } from '../../trpc';

const col = createColumnHelper<SessionView>();

/** A browser's user agent in a few words: the browser and the system, else the raw string cut short. */
export function describeUserAgent(ua: string | null): string {
  if (!ua) return 'Unknown device';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : null;
  const system = /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : null;
  if (browser && system) return `${browser} on ${system}`;
  return ua.length > 60 ? `${ua.slice(0, 60)}…` : ua;
}

/** The signed-in person's open sessions, with revoke (a lost laptop, a shared computer). */
export function SessionsSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const sessions = useQuery(trpc.auth.sessions.list.queryOptions());
  const [revoking, setRevoking] = useState<SessionView | null>(null);

  const revoke = useMutation(
    trpc.auth.sessions.revoke.mutationOptions({
      onSuccess: async (result) => {
        setRevoking(null);
        if (result.current) {
          // This browser's own session ended: forget everything and let auth.me show the sign-in page.
          queryClient.removeQueries({ predicate: (q) => !isMeQuery(q.queryKey) });
          await queryClient.resetQueries(trpc.auth.me.queryFilter());
          return;
        }
        toast.show('Session signed out.');
        void queryClient.invalidateQueries(trpc.auth.sessions.list.queryFilter());
      },
    }),
  );

  const resetRevoke = revoke.reset;
  const columns = useMemo(
    () => [
      col.accessor((s) => describeUserAgent(s.userAgent), {
        id: 'device',
        header: 'Device',
        cell: (c) => (
          <span className="strong" title={c.row.original.userAgent ?? undefined}>
            {c.getValue()}
            {c.row.original.current && <span className="tag">this browser</span>}
          </span>
        ),
      }),
      col.accessor('ip', { header: 'Address', meta: { mono: true, width: 140 }, cell: (c) => c.getValue() ?? '—' }),
      col.accessor('createdAt', {
        header: 'Signed in',
        meta: { width: 140 },
        cell: (c) => <time dateTime={c.getValue()}>{formatDateTime(c.getValue())}</time>,
      }),
      col.accessor('lastSeenAt', {
        header: 'Last seen',
        meta: { width: 110 },
        cell: (c) => (
          <time dateTime={c.getValue()} title={formatDateTime(c.getValue())}>
            {formatRelative(c.getValue())}
          </time>
        ),
      }),
      col.display({
        id: 'actions',
        header: () => <span className="sr-only">Actions</span>,
        meta: { align: 'right', width: 100 },
        cell: (c) => (
          <button
            type="button"
            className="button button-small button-danger-quiet"
            onClick={() => {
              resetRevoke();
              setRevoking(c.row.original);
            }}
            aria-label={`Revoke session ${describeUserAgent(c.row.original.userAgent)} from ${c.row.original.ip ?? 'unknown address'}${c.row.original.current ? ' (this browser)' : ''}`}
          >
            Revoke
          </button>
        ),
      }),
    ],
    [resetRevoke],
  );

  return (
    <section className="section" aria-labelledby="sessions-title">
      <div className="section-header">
        <div>
          <h2 id="sessions-title">Your sessions</h2>
          <p className="section-description">Where you are signed in. Revoke any you do not recognise; it is signed out at once.</p>
        </div>
      </div>
      <DataTable
        label="Your sessions"
        testId="sessions-table"
        columns={columns}
        data={sessions.data}
        loading={sessions.isPending}
        error={sessions.isError ? errorMessage(sessions.error) : null}
        getRowId={(s) => s.id}
        initialSorting={[{ id: 'lastSeenAt', desc: true }]}
      />
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke session"
        message={
          revoking?.current ? (
            <p>This is the session of this browser: revoking it signs you out here.</p>
          ) : (
            <p>
              Sign out <strong>{describeUserAgent(revoking?.userAgent ?? null)}</strong> ({revoking?.ip ?? 'unknown address'})? Whoever uses it must sign in again.
            </p>
          )
        }
        confirmLabel="Revoke session"
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
