import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useId, useMemo, useState, type FormEvent } from 'react';
import { createSilenceInputSchema, knownAlertTypes, type SilenceView } from '../../../../shared/alerts';
import { isAdmin, useMe } from '../../auth';
import { DataTable } from '../../components/DataTable';
import { Field, validateForm } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import type { FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { When } from './badges';

const col = createColumnHelper<SilenceView>();

type Form = { alertType: string; subject: string; hours: string; reason: string };
const blank: Form = { alertType: '', subject: '', hours: '2', reason: '' };

/** The form's "for N hours" as the end time the server stores; NaN hours give an invalid time the schema refuses. */
function endsAtOf(hours: string): string {
  const h = Number(hours.trim());
  if (hours.trim() === '' || !Number.isFinite(h) || h <= 0) return 'not a time';
  return new Date(Date.now() + h * 3_600_000).toISOString();
}

/**
 * Silences in force: alerts of the type (one subject, or all) are recorded but not sent until the
 * silence ends. Admins create and end them; analysts see the list.
 */
export function SilencesSection() {
  const trpc = useTRPC();
  const admin = isAdmin(useMe());
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const silences = useQuery(trpc.admin.alerts.silences.list.queryOptions(undefined, { refetchInterval: 30_000 }));
  const [form, setForm] = useState<Form>(blank);
  const [errors, setErrors] = useState<FieldErrors>({});
  const refresh = () => void queryClient.invalidateQueries(trpc.admin.alerts.silences.pathFilter());

  const create = useMutation(
    trpc.admin.alerts.silences.create.mutationOptions({
      onSuccess: (s) => {
        toast.show(`${s.alertType}${s.subject ? ` (${s.subject})` : ''} silenced.`);
        setForm(blank);
        refresh();
      },
    }),
  );
  const end = useMutation(
    trpc.admin.alerts.silences.end.mutationOptions({
      onSuccess: (s) => {
        toast.show(`Silence of ${s.alertType} ended: its alerts are sent again.`);
        refresh();
      },
    }),
  );
  const endSilence = end.mutate;
  const ending = end.isPending ? end.variables?.id : undefined;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (create.isPending) return;
    const result = validateForm(createSilenceInputSchema, {
      alertType: form.alertType,
      subject: form.subject.trim() === '' ? null : form.subject,
      endsAt: endsAtOf(form.hours),
      reason: form.reason,
    });
    // The end time is entered as hours: its error belongs to that field.
    setErrors(result.ok ? {} : { ...result.errors, ...(result.errors.endsAt ? { hours: 'Enter a number of hours above 0' } : {}) });
    if (result.ok) create.mutate(result.data);
  };

  const columns = useMemo(
    () => [
      col.accessor('alertType', { header: 'Type', meta: { mono: true }, cell: (c) => <span className="strong">{c.getValue()}</span> }),
      col.accessor('subject', {
        header: 'Subject',
        meta: { width: 160 },
        cell: (c) => c.getValue() ?? <span className="muted">all subjects</span>,
      }),
      col.accessor('reason', { header: 'Reason', enableSorting: false }),
      col.accessor('createdBy', { header: 'By', meta: { width: 160 } }),
      col.accessor('endsAt', { header: 'Ends', meta: { width: 110 }, cell: (c) => <When iso={c.getValue()} /> }),
      ...(admin
        ? [
            col.display({
              id: 'actions',
              header: () => <span className="sr-only">Actions</span>,
              meta: { align: 'right', width: 90 },
              cell: (c) => {
                const s = c.row.original;
                return (
                  <button
                    type="button"
                    className="button button-small"
                    aria-label={`End silence of ${s.alertType}${s.subject ? ` ${s.subject}` : ''}`}
                    disabled={ending === s.id}
                    onClick={() => endSilence({ id: s.id })}
                  >
                    {ending === s.id ? 'Ending…' : 'End'}
                  </button>
                );
              },
            }),
          ]
        : []),
    ],
    [admin, endSilence, ending],
  );

  return (
    <section className="section" aria-labelledby="alert-silences-title">
      <div className="section-header">
        <div>
          <h2 id="alert-silences-title">Silences</h2>
          <p className="section-description">
            A silenced alert type (or one of its subjects, such as a provider under maintenance) is still recorded and shown here, but not sent to Slack, email or SMS until the silence ends.
          </p>
        </div>
      </div>

      {admin && (
        <form className="silence-form" onSubmit={submit} noValidate aria-label="New silence">
          {create.isError && (
            <div className="alert alert-error" role="alert">
              {errorMessage(create.error)}
            </div>
          )}
          <div className="silence-form-fields">
            <Field id={`${id}-type`} label="Alert type" error={errors.alertType}>
              <input
                id={`${id}-type`}
                list={`${id}-types`}
                autoComplete="off"
                spellCheck={false}
                placeholder="e.g. provider_unhealthy"
                value={form.alertType}
                onChange={(e) => setForm((f) => ({ ...f, alertType: e.target.value }))}
              />
            </Field>
            <datalist id={`${id}-types`}>
              {knownAlertTypes.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
            <Field id={`${id}-subject`} label="Subject" error={errors.subject} hint="Empty: every subject">
              <input id={`${id}-subject`} autoComplete="off" spellCheck={false} placeholder="e.g. fal" value={form.subject} onChange={(e) => setForm((f) => ({ ...f, subject: e.target.value }))} />
            </Field>
            <Field id={`${id}-hours`} label="For (hours)" error={errors.hours}>
              <input id={`${id}-hours`} inputMode="decimal" autoComplete="off" value={form.hours} onChange={(e) => setForm((f) => ({ ...f, hours: e.target.value }))} />
            </Field>
            <Field id={`${id}-reason`} label="Reason" error={errors.reason} hint="Recorded in the audit log">
              <input id={`${id}-reason`} autoComplete="off" placeholder="e.g. fal maintenance window" value={form.reason} onChange={(e) => setForm((f) => ({ ...f, reason: e.target.value }))} />
            </Field>
          </div>
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            {create.isPending ? 'Silencing…' : 'Silence'}
          </button>
        </form>
      )}
      {end.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(end.error)}
        </div>
      )}

      <div className="table-dense">
        <DataTable
          label="Active silences"
          testId="alert-silences-table"
          columns={columns}
          data={silences.data}
          getRowId={(s) => s.id}
          loading={silences.isPending}
          error={silences.isError ? errorMessage(silences.error) : null}
          emptyMessage="No silences: every alert is sent to its channels."
          initialSorting={[{ id: 'endsAt', desc: false }]}
        />
      </div>
    </section>
  );
}
