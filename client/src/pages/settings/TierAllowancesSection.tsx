import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import type { z } from 'zod';
import { tierAllowanceSchema, updateTierInputSchema } from '../../../../shared/credits';
import { isAdmin, useMe } from '../../auth';
import { formatCount } from '../../components/Amount';
import { DataTable } from '../../components/DataTable';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, ReasonField, validateForm, wholeNumber } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import type { FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { TierBadge, tierLabel } from '../users/TierBadge';

type TierAllowance = z.infer<typeof tierAllowanceSchema>;

const col = createColumnHelper<TierAllowance>();
const tierOrder = { free: 0, plus: 1, pro: 2 } as const;

/** Monthly credits and pool access per subscription tier; admins edit them, analysts read them. */
export function TierAllowancesSection() {
  const trpc = useTRPC();
  const me = useMe();
  const admin = isAdmin(me);
  const tiers = useQuery(trpc.admin.tiers.list.queryOptions());
  const [editing, setEditing] = useState<TierAllowance | null>(null);

  const columns = useMemo(
    () => [
      col.accessor((t) => tierOrder[t.tier], {
        id: 'tier',
        header: 'Tier',
        meta: { width: 110 },
        cell: (c) => <TierBadge tier={c.row.original.tier} />,
      }),
      col.accessor('monthlyCredits', {
        header: 'Monthly credits',
        meta: { align: 'right', width: 140 },
        cell: (c) => formatCount(c.getValue()),
      }),
      col.accessor('poolAccess', {
        header: 'Pool access',
        meta: { width: 260 },
        cell: (c) =>
          c.getValue() ? (
            <span>
              <span className="badge badge-ok">Yes</span> <span className="muted">overflows to the platform pool</span>
            </span>
          ) : (
            <span>
              <span className="badge badge-muted">No</span> <span className="muted">refused when spent</span>
            </span>
          ),
      }),
      col.accessor((t) => t.monthlyOverflowCap ?? Number.POSITIVE_INFINITY, {
        id: 'overflowCap',
        header: 'Overflow cap',
        meta: { align: 'right', width: 150 },
        cell: (c) => {
          const t = c.row.original;
          if (!t.poolAccess) return <span className="muted">–</span>;
          return t.monthlyOverflowCap === null ? <span className="muted">Unlimited</span> : `${formatCount(t.monthlyOverflowCap)} a month`;
        },
      }),
      col.accessor('rolloverCap', {
        header: 'Rollover',
        meta: { align: 'right', width: 190 },
        cell: (c) => {
          const t = c.row.original;
          if (t.rolloverCap === 0) return <span className="muted">None</span>;
          return `up to ${formatCount(t.rolloverCap)}, lasts ${t.rolloverMonths} ${t.rolloverMonths === 1 ? 'month' : 'months'}`;
        },
      }),
      col.accessor('updatedAt', {
        header: 'Updated',
        cell: (c) => <time dateTime={c.getValue()}>{formatDateTime(c.getValue())}</time>,
      }),
      ...(admin
        ? [
            col.display({
              id: 'actions',
              header: () => <span className="sr-only">Actions</span>,
              meta: { align: 'right', width: 70 },
              cell: (c) => (
                <button type="button" className="button button-small" onClick={() => setEditing(c.row.original)} aria-label={`Edit ${c.row.original.tier} tier`}>
                  Edit
                </button>
              ),
            }),
          ]
        : []),
    ],
    [admin],
  );

  return (
    <section className="section" aria-labelledby="tiers-title">
      <div className="section-header">
        <div>
          <h2 id="tiers-title">Tier allowances</h2>
          <p className="section-description">
            Credits each subscription tier gets every month. With pool access, a user whose allowance is spent draws from the platform pool, up to the tier's monthly overflow cap; without it, or past
            the cap, they are asked to upgrade. With a rollover cap, unused allowance carries into the next month as a grant that is spent first.
          </p>
        </div>
      </div>
      <DataTable
        label="Tier allowances"
        testId="tiers-table"
        columns={columns}
        data={tiers.data}
        getRowId={(t) => t.tier}
        loading={tiers.isPending}
        error={tiers.isError ? errorMessage(tiers.error) : null}
        initialSorting={[{ id: 'tier', desc: false }]}
      />
      {admin && <EditTierDialog tier={editing} onClose={() => setEditing(null)} />}
    </section>
  );
}

function EditTierDialog({ tier, onClose }: { tier: TierAllowance | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [monthlyCredits, setMonthlyCredits] = useState('');
  const [poolAccess, setPoolAccess] = useState(false);
  const [overflowCap, setOverflowCap] = useState('');
  const [rolloverCap, setRolloverCap] = useState('');
  const [rolloverMonths, setRolloverMonths] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const update = useMutation(
    trpc.admin.tiers.update.mutationOptions({
      onSuccess: (t) => {
        const cap = t.monthlyOverflowCap === null ? 'unlimited overflow' : `overflow up to ${formatCount(t.monthlyOverflowCap)}`;
        const rollover = t.rolloverCap === 0 ? 'no rollover' : `rollover up to ${formatCount(t.rolloverCap)} for ${t.rolloverMonths} ${t.rolloverMonths === 1 ? 'month' : 'months'}`;
        toast.show(`${tierLabel(t.tier)} tier: ${formatCount(t.monthlyCredits)} credits a month, ${t.poolAccess ? `with pool access (${cap})` : 'without pool access'}, ${rollover}.`);
        void queryClient.invalidateQueries(trpc.admin.tiers.pathFilter());
        onClose();
      },
    }),
  );

  const { reset: resetUpdate } = update;
  useEffect(() => {
    if (tier) {
      setMonthlyCredits(String(tier.monthlyCredits));
      setPoolAccess(tier.poolAccess);
      setOverflowCap(tier.monthlyOverflowCap === null ? '' : String(tier.monthlyOverflowCap));
      setRolloverCap(String(tier.rolloverCap));
      setRolloverMonths(String(tier.rolloverMonths));
      setReason('');
      setErrors({});
      resetUpdate();
    }
  }, [tier, resetUpdate]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!tier || update.isPending) return;
    const result = validateForm(updateTierInputSchema, {
      tier: tier.tier,
      monthlyCredits: wholeNumber(monthlyCredits),
      poolAccess,
      // An empty field is no cap at all.
      monthlyOverflowCap: overflowCap.trim() === '' ? null : wholeNumber(overflowCap),
      rolloverCap: wholeNumber(rolloverCap),
      rolloverMonths: wholeNumber(rolloverMonths),
      reason,
    });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    update.mutate(result.data);
  };

  return (
    <Dialog open={tier !== null} title={tier ? `Edit ${tierLabel(tier.tier)} tier` : 'Edit tier'} onClose={onClose} width={420}>
      <form onSubmit={submit} noValidate>
        {update.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(update.error)}
          </div>
        )}
        <Field id={`${id}-credits`} label="Monthly credits" error={errors.monthlyCredits} hint="A new allowance applies from each user's next monthly reset.">
          <input id={`${id}-credits`} type="number" inputMode="numeric" min={0} max={100_000} step={1} data-autofocus value={monthlyCredits} onChange={(e) => setMonthlyCredits(e.target.value)} />
        </Field>
        <div className="field">
          <label className="checkbox-inline">
            <input type="checkbox" checked={poolAccess} onChange={(e) => setPoolAccess(e.target.checked)} />
            Pool access: overflow to the platform pool when the allowance is spent
          </label>
          <div className="field-hint">Applies at once.</div>
        </div>
        <Field
          id={`${id}-overflow-cap`}
          label="Monthly overflow cap"
          error={errors.monthlyOverflowCap}
          hint="Credits a user may draw from the platform pool each month once the allowance is spent. Empty means unlimited. Applies at once."
        >
          <input
            id={`${id}-overflow-cap`}
            type="number"
            inputMode="numeric"
            min={0}
            step={1}
            placeholder="Unlimited"
            disabled={!poolAccess}
            value={overflowCap}
            onChange={(e) => setOverflowCap(e.target.value)}
          />
        </Field>
        <Field
          id={`${id}-rollover-cap`}
          label="Rollover cap"
          error={errors.rolloverCap}
          hint="Unused allowance carried into the next month as a rollover grant, up to this many credits. 0 is no rollover. Applies from each user's next monthly reset."
        >
          <input id={`${id}-rollover-cap`} type="number" inputMode="numeric" min={0} max={100_000} step={1} value={rolloverCap} onChange={(e) => setRolloverCap(e.target.value)} />
        </Field>
        <Field id={`${id}-rollover-months`} label="Rollover lasts (months)" error={errors.rolloverMonths} hint="What is left of a rollover grant expires after this many months.">
          <input
            id={`${id}-rollover-months`}
            type="number"
            inputMode="numeric"
            min={1}
            max={24}
            step={1}
            disabled={rolloverCap.trim() === '0'}
            value={rolloverMonths}
            onChange={(e) => setRolloverMonths(e.target.value)}
          />
        </Field>
        <ReasonField id={`${id}-reason`} value={reason} onChange={setReason} error={errors.reason} placeholder="e.g. pricing change for Q3" />
        <FormActions onClose={onClose} busy={update.isPending} label="Save tier" />
      </form>
    </Dialog>
  );
}
