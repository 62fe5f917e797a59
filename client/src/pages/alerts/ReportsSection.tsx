import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { reportSettingsInputSchema, type ReportKind, type ReportSettingsView, type SendNowResult } from '../../../../shared/reports';
import { isAdmin, useMe } from '../../auth';
import { Field, validateForm } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { useTRPC } from '../../trpc';

const kindLabels: Record<ReportKind, { title: string; about: string }> = {
  daily: { title: 'Daily report', about: "Yesterday's requests, credits, cost, providers, pools, top users and alerts, every day at 08:00." },
  weekly: { title: 'Weekly report', about: 'Last week, with the trend against the week before, every Monday at 08:00.' },
};

const list = (text: string) => text.split(/[\s,;]+/).filter(Boolean);

/** Who gets the automated reports, and a "Send now" preview of each. */
export function ReportsSection() {
  const trpc = useTRPC();
  const settings = useQuery(trpc.admin.reports.settings.queryOptions());
  return (
    <section className="section" aria-labelledby="alert-reports-title">
      <div className="section-header">
        <div>
          <h2 id="alert-reports-title">Reports</h2>
          <p className="section-description">Sent through the Slack webhook and the SMTP server of the channels above, once per period (in the jobs' time zone), to the recipients set here.</p>
        </div>
      </div>
      {settings.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(settings.error)}
        </div>
      )}
      {settings.isPending && <p className="muted">Loading…</p>}
      <div className="alerts-channels">
        {settings.data?.map((v) => (
          <ReportCard key={`${v.kind}-${JSON.stringify(v)}`} view={v} />
        ))}
      </div>
    </section>
  );
}

function ReportCard({ view }: { view: ReportSettingsView }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const admin = isAdmin(useMe());
  const id = useId();
  const [form, setForm] = useState({ enabled: view.enabled, slack: view.slack, emailTo: view.emailTo.join(', ') });
  const [error, setError] = useState<string | undefined>();
  const [preview, setPreview] = useState<SendNowResult | null>(null);
  const save = useMutation(
    trpc.admin.reports.updateSettings.mutationOptions({
      onSuccess: (v) => {
        toast.show(`${kindLabels[v.kind].title} saved${v.enabled ? ' (on)' : ' (off)'}.`);
        void queryClient.invalidateQueries(trpc.admin.reports.settings.queryFilter());
      },
    }),
  );
  const sendNow = useMutation(trpc.admin.reports.sendNow.mutationOptions({ onSuccess: setPreview }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateForm(reportSettingsInputSchema, { kind: view.kind, enabled: form.enabled, slack: form.slack, emailTo: list(form.emailTo) });
    if (!result.ok) {
      setError(Object.values(result.errors)[0]);
      return;
    }
    setError(undefined);
    save.mutate(result.data);
  };

  return (
    <article className="alerts-card" data-testid={`report-${view.kind}`} aria-label={kindLabels[view.kind].title}>
      <header className="alerts-card-header">
        <div className="alerts-card-title">
          <h3>{kindLabels[view.kind].title}</h3>
          <span className={`badge badge-label ${view.enabled ? 'badge-ok' : 'badge-muted'}`}>{view.enabled ? 'On' : 'Off'}</span>
          <span className="alerts-card-about">
            {kindLabels[view.kind].about} <span className="mono">{view.schedule}</span>
          </span>
        </div>
      </header>
      <p className="muted" data-testid={`report-last-${view.kind}`}>
        {view.lastSent
          ? `Last: ${view.lastSent.periodStart === view.lastSent.periodEnd ? view.lastSent.periodStart : `${view.lastSent.periodStart} – ${view.lastSent.periodEnd}`}, ${view.lastSent.status}${view.lastSent.sentAt ? ` ${formatDateTime(view.lastSent.sentAt)}` : ''}`
          : 'Not sent yet.'}
      </p>
      <form onSubmit={submit} noValidate>
        <label className="checkbox-inline">
          <input type="checkbox" disabled={!admin} checked={form.enabled} onChange={(e) => setForm((f) => ({ ...f, enabled: e.target.checked }))} />
          Send on schedule
        </label>
        <label className="checkbox-inline">
          <input type="checkbox" disabled={!admin} checked={form.slack} onChange={(e) => setForm((f) => ({ ...f, slack: e.target.checked }))} />
          Post to Slack
        </label>
        <Field id={`${id}-email`} label="Email recipients" error={error} hint="Comma-separated; empty sends no email.">
          <input id={`${id}-email`} type="text" disabled={!admin} value={form.emailTo} onChange={(e) => setForm((f) => ({ ...f, emailTo: e.target.value }))} placeholder="ops@example.com" />
        </Field>
        {admin && (
          <div className="reports-actions">
            <button type="button" className="button button-small" disabled={sendNow.isPending} onClick={() => sendNow.mutate({ kind: view.kind })}>
              {sendNow.isPending ? 'Sending…' : 'Send now'}
            </button>
            <button type="submit" className="button button-small button-primary" disabled={save.isPending}>
              Save
            </button>
          </div>
        )}
      </form>
      {sendNow.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(sendNow.error)}
        </div>
      )}
      {preview && (
        <div className="reports-preview" data-testid={`report-preview-${view.kind}`}>
          <ul className="reports-deliveries">
            {preview.deliveries.length === 0 && <li className="muted">No recipients: nothing was sent.</li>}
            {preview.deliveries.map((d) => (
              <li key={d.channel} data-testid={`report-delivery-${d.channel}`}>
                {d.channel === 'slack' ? 'Slack' : 'Email'}: {d.ok ? 'sent' : `failed — ${d.error}`}
              </li>
            ))}
          </ul>
          <pre className="reports-text">{preview.text}</pre>
        </div>
      )}
    </article>
  );
}
