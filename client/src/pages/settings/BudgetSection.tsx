import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import type { z } from 'zod';
import { updatePlatformSettingsInputSchema, type platformSettingsSchema } from '../../../../shared/pools';
import { isAdmin, useMe } from '../../auth';
import { formatCount, formatUsd, parseMicros } from '../../components/Amount';
import { Field, ReasonField, validateForm, wholeNumber } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import type { FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { BudgetFigures } from '../pools/BudgetFigures';
import { Skeleton } from '../../components/Skeleton';

type PlatformSettings = z.infer<typeof platformSettingsSchema>;

/** The month's credit budget (revenue × share) that refills are held to, and the refill safety settings. */
export function BudgetSection() {
  const trpc = useTRPC();
  const me = useMe();
  const settings = useQuery(trpc.admin.platformSettings.get.queryOptions());

  return (
    <section className="section" aria-labelledby="budget-title" data-testid="budget-section">
      <div className="section-header">
        <div>
          <h2 id="budget-title">Budget &amp; reserves</h2>
          <p className="section-description">
            Refills are held to a monthly credit budget: the month's revenue times the credit share. A refill that would go over it waits for an admin's approval on the Pools page. A revenue of 0
            means no cap.
          </p>
        </div>
      </div>
      {settings.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(settings.error)}
        </div>
      )}
      {settings.isPending && <Skeleton lines={3} />}
      {settings.data && (
        <>
          <BudgetFigures />
          {isAdmin(me) ? <BudgetForm settings={settings.data} /> : <BudgetReadOnly settings={settings.data} />}
        </>
      )}
    </section>
  );
}

function BudgetReadOnly({ settings: s }: { settings: PlatformSettings }) {
  return (
    <dl className="kv-grid" data-testid="budget-read-only">
      <dt>Monthly revenue</dt>
      <dd>{formatUsd(s.monthlyRevenueUsd)}</dd>
      <dt>Credit budget share</dt>
      <dd>{s.creditBudgetSharePercent}%</dd>
      <dt>Refill backoff</dt>
      <dd>{formatSeconds(s.refillBackoffSeconds)}</dd>
      <dt>Provider drift tolerance</dt>
      <dd>{formatCount(s.providerDriftTolerance)} credits</dd>
      <dt>Refills confirmed above</dt>
      <dd>
        {formatCount(s.refillConfirmCredits)} credits or {formatUsd(s.refillConfirmUsd)}
      </dd>
    </dl>
  );
}

function BudgetForm({ settings }: { settings: PlatformSettings }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const fromSettings = (s: PlatformSettings) => ({
    monthlyRevenueUsd: s.monthlyRevenueUsd,
    creditBudgetSharePercent: String(s.creditBudgetSharePercent),
    refillBackoffSeconds: String(s.refillBackoffSeconds),
    providerDriftTolerance: String(s.providerDriftTolerance),
    refillConfirmCredits: String(s.refillConfirmCredits),
    refillConfirmUsd: s.refillConfirmUsd,
  });
  const [values, setValues] = useState(() => fromSettings(settings));
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const set = (key: keyof typeof values) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [key]: e.target.value }));

  const save = useMutation(
    trpc.admin.platformSettings.update.mutationOptions({
      onSuccess: (s) => {
        queryClient.setQueryData(trpc.admin.platformSettings.get.queryKey(), s);
        setValues(fromSettings(s));
        setReason('');
        toast.show((parseMicros(s.monthlyRevenueUsd) ?? 0n) > 0n ? `Budget & reserves saved. This month's budget: ${formatUsd(s.budgetUsd)}.` : 'Budget & reserves saved. Refills are not capped.');
        void queryClient.invalidateQueries(trpc.admin.platformSettings.pathFilter());
      },
    }),
  );

  const initial = fromSettings(settings);
  const dirty = (Object.keys(values) as (keyof typeof values)[]).some((k) => values[k].trim() !== initial[k]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (save.isPending) return;
    const result = validateForm(updatePlatformSettingsInputSchema, {
      monthlyRevenueUsd: values.monthlyRevenueUsd,
      creditBudgetSharePercent: wholeNumber(values.creditBudgetSharePercent),
      refillBackoffSeconds: wholeNumber(values.refillBackoffSeconds),
      providerDriftTolerance: wholeNumber(values.providerDriftTolerance),
      refillConfirmCredits: wholeNumber(values.refillConfirmCredits),
      refillConfirmUsd: values.refillConfirmUsd,
      reason,
    });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    save.mutate(result.data);
  };

  return (
    <form onSubmit={submit} noValidate className="settings-form" aria-label="Budget and reserves">
      {save.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(save.error)}
        </div>
      )}
      <div className="form-grid form-grid-4">
        <Field id={`${id}-revenue`} label="Monthly revenue (USD)" error={errors.monthlyRevenueUsd} hint="e.g. 12500.00; 0 = no cap">
          <input id={`${id}-revenue`} inputMode="decimal" autoComplete="off" value={values.monthlyRevenueUsd} onChange={set('monthlyRevenueUsd')} />
        </Field>
        <Field id={`${id}-share`} label="Credit budget share (%)" error={errors.creditBudgetSharePercent} hint="Of revenue, 0–100">
          <input id={`${id}-share`} type="number" min={0} max={100} step={1} value={values.creditBudgetSharePercent} onChange={set('creditBudgetSharePercent')} />
        </Field>
        <Field id={`${id}-backoff`} label="Refill backoff (seconds)" error={errors.refillBackoffSeconds} hint="Wait after a failed refill, ≥ 60">
          <input id={`${id}-backoff`} type="number" min={60} step={1} value={values.refillBackoffSeconds} onChange={set('refillBackoffSeconds')} />
        </Field>
        <Field id={`${id}-drift`} label="Provider drift tolerance" error={errors.providerDriftTolerance} hint="Credits of difference before an alert">
          <input id={`${id}-drift`} type="number" min={0} step={1} value={values.providerDriftTolerance} onChange={set('providerDriftTolerance')} />
        </Field>
        <Field id={`${id}-confirm-credits`} label="Confirm refills above (credits)" error={errors.refillConfirmCredits} hint="The Refill dialog asks twice">
          <input id={`${id}-confirm-credits`} type="number" min={0} step={1} value={values.refillConfirmCredits} onChange={set('refillConfirmCredits')} />
        </Field>
        <Field id={`${id}-confirm-usd`} label="Confirm refills above (USD)" error={errors.refillConfirmUsd} hint="e.g. 250.00">
          <input id={`${id}-confirm-usd`} inputMode="decimal" autoComplete="off" value={values.refillConfirmUsd} onChange={set('refillConfirmUsd')} />
        </Field>
      </div>
      <div className="form-inline-submit">
        <ReasonField id={`${id}-reason`} value={reason} onChange={setReason} error={errors.reason} placeholder="e.g. October revenue forecast" />
        <div className="form-inline-buttons">
          {dirty && (
            <button
              type="button"
              className="button"
              onClick={() => {
                setValues(initial);
                setErrors({});
              }}
            >
              Discard
            </button>
          )}
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : 'Save budget & reserves'}
          </button>
        </div>
      </div>
    </form>
  );
}

function formatSeconds(s: number): string {
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${formatCount(s)} s`;
}
