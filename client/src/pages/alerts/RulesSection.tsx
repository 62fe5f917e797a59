import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { Link } from 'wouter';
import type { AlertRuleView } from '../../../../shared/alerts';
import { isAdmin, useMe } from '../../auth';
import { formatCount } from '../../components/Amount';
import { Chips } from '../../components/Chips';
import { DataTable } from '../../components/DataTable';
import { ConfirmDialog } from '../../components/Dialog';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { useTRPC } from '../../trpc';
import { channelLabels, formatCooldown, When } from './badges';
import { checkedTypes, RuleDialog, thresholdMeaning } from './RuleDialog';

const col = createColumnHelper<AlertRuleView>();

type EditState = { open: false } | { open: true; rule: AlertRuleView | null };

/** `1,000` → "1,000 credits" etc., with what an empty threshold means. */
function ThresholdCell({ rule }: { rule: AlertRuleView }) {
  const m = thresholdMeaning(rule.alertType);
  if (!m) return rule.thresholdValue ? <span title="Not used: only the threshold checks read thresholds">{rule.thresholdValue}</span> : <span className="muted">—</span>;
  if (m.settingsOwned) return <SettingsOwnedThreshold hint={m.hint} />;
  if (rule.thresholdValue === null)
    return (
      <span className="muted" title={m.hint}>
        default ({m.fallback})
      </span>
    );
  return (
    <span title={m.hint}>
      {trimDecimal(rule.thresholdValue)}
      <span className="cell-sub"> {m.unit}</span>
    </span>
  );
}

/** Read-only here: the users-out threshold has one home, the Settings page. */
function SettingsOwnedThreshold({ hint }: { hint: string }) {
  const trpc = useTRPC();
  const settings = useQuery(trpc.admin.platformSettings.get.queryOptions());
  return (
    <span title={hint} data-testid="users-out-rule-threshold">
      {settings.data ? formatCount(settings.data.usersOutOfCreditsThreshold) : '…'}
      <span className="cell-sub"> users · </span>
      <Link href="/settings#users-out-threshold">set in Settings</Link>
    </span>
  );
}

const trimDecimal = (v: string) => (v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v);

/** credit_alerts: which types are checked against a threshold, and which channels each type adds. */
export function RulesSection() {
  const trpc = useTRPC();
  const admin = isAdmin(useMe());
  const queryClient = useQueryClient();
  const toast = useToast();
  const rules = useQuery(trpc.admin.alerts.rules.list.queryOptions());
  const [edit, setEdit] = useState<EditState>({ open: false });
  const [deleting, setDeleting] = useState<AlertRuleView | null>(null);

  const remove = useMutation(
    trpc.admin.alerts.rules.delete.mutationOptions({
      onSuccess: () => {
        toast.show(`Rule ${deleting?.alertType ?? ''} deleted.`);
        setDeleting(null);
        void queryClient.invalidateQueries(trpc.admin.alerts.rules.pathFilter());
      },
    }),
  );
  const resetRemove = remove.reset;

  const columns = useMemo(
    () => [
      col.accessor('alertType', {
        header: 'Type',
        meta: { mono: true },
        cell: (c) => (
          <span className="cell-inline">
            <span className="strong">{c.getValue()}</span>
            {checkedTypes.includes(c.getValue()) && (
              <span className="tag" title="Checked against its threshold every 15 minutes (job check-credit-thresholds)">
                checked
              </span>
            )}
          </span>
        ),
      }),
      col.accessor('thresholdValue', {
        header: 'Threshold',
        meta: { width: 170 },
        sortingFn: (a, b) => Number(a.original.thresholdValue ?? -1) - Number(b.original.thresholdValue ?? -1),
        cell: (c) => <ThresholdCell rule={c.row.original} />,
      }),
      col.accessor('notificationChannels', {
        header: 'Extra channels',
        enableSorting: false,
        meta: { width: 200 },
        cell: (c) =>
          c.getValue().length ? (
            <Chips values={c.getValue()} label={(ch) => channelLabels[ch]} />
          ) : (
            <span className="muted" title="Only the channels of the alert's level">
              level defaults
            </span>
          ),
      }),
      col.accessor('repeatIntervalSeconds', {
        header: 'Remind every',
        meta: { width: 110 },
        cell: (c) => <span title="An open alert of this type is sent again after this long">{formatCooldown(c.getValue())}</span>,
      }),
      col.accessor('isActive', {
        header: 'Active',
        meta: { width: 76 },
        cell: (c) => <span className={`badge ${c.getValue() ? 'badge-ok' : 'badge-muted'}`}>{c.getValue() ? 'active' : 'off'}</span>,
      }),
      col.accessor('lastTriggeredAt', {
        header: 'Last triggered',
        meta: { width: 110 },
        sortUndefined: 'last',
        cell: (c) => <When iso={c.getValue()} />,
      }),
      col.accessor('updatedAt', { header: 'Updated', meta: { width: 96 }, cell: (c) => <When iso={c.getValue()} /> }),
      ...(admin
        ? [
            col.display({
              id: 'actions',
              header: () => <span className="sr-only">Actions</span>,
              meta: { align: 'right', width: 118 },
              cell: (c) => {
                const r = c.row.original;
                return (
                  <span className="row-actions">
                    <button type="button" className="button button-small" aria-label={`Edit rule ${r.alertType} #${r.id}`} onClick={() => setEdit({ open: true, rule: r })}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="button button-small button-danger-quiet"
                      aria-label={`Delete rule ${r.alertType} #${r.id}`}
                      onClick={() => {
                        resetRemove();
                        setDeleting(r);
                      }}
                    >
                      Delete
                    </button>
                  </span>
                );
              },
            }),
          ]
        : []),
    ],
    [admin, resetRemove],
  );

  return (
    <section className="section" aria-labelledby="alert-rules-title">
      <div className="section-header">
        <div>
          <h2 id="alert-rules-title">Rules</h2>
          <p className="section-description">
            A rule for <code>pool_low</code>, <code>pool_usage_high</code> or <code>users_out_of_credits</code> turns that check on, with its threshold (<code>users_out_of_credits</code> takes its
            threshold from Settings). Any rule can send its type to channels on top of the level&rsquo;s defaults. Inactive rules do nothing.
          </p>
        </div>
        {admin && (
          <button type="button" className="button button-primary" onClick={() => setEdit({ open: true, rule: null })}>
            Add rule
          </button>
        )}
      </div>
      <div className="table-dense">
        <DataTable
          label="Alert rules"
          testId="alert-rules-table"
          columns={columns}
          data={rules.data}
          getRowId={(r) => r.id}
          loading={rules.isPending}
          error={rules.isError ? errorMessage(rules.error) : null}
          emptyMessage="No rules: no threshold is checked, and alerts go to their level's channels only."
          isRowMuted={(r) => !r.isActive}
          initialSorting={[{ id: 'alertType', desc: false }]}
        />
      </div>

      {admin && (
        <>
          <RuleDialog open={edit.open} rule={edit.open ? edit.rule : null} onClose={() => setEdit({ open: false })} />
          <ConfirmDialog
            open={deleting !== null}
            title="Delete rule"
            message={
              <p>
                Delete the <code>{deleting?.alertType}</code> rule?{' '}
                {deleting && checkedTypes.includes(deleting.alertType) ? 'Without an active rule of this type its check stops running.' : 'Its type goes to the level’s channels only.'} To pause it
                instead, edit it and switch it off.
              </p>
            }
            confirmLabel="Delete rule"
            busyLabel="Deleting…"
            danger
            busy={remove.isPending}
            error={remove.isError ? errorMessage(remove.error) : null}
            onConfirm={() => deleting && remove.mutate({ id: deleting.id })}
            onClose={() => setDeleting(null)}
          />
        </>
      )}
    </section>
  );
}
