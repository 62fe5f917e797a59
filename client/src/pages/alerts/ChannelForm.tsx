import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { emailConfigSchema, smsConfigSchema, updateChannelInputSchema, type AlertChannelName, type ChannelSettingsView, type EmailConfig, type SmsConfig } from '../../../../shared/alerts';
import { Field, validateForm, wholeNumber } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import type { FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { channelLabels, formatCooldown, When } from './badges';
import { secretLabels, list, CardHeader, SecretStatus } from './ChannelCard';

const replaceLabels: Record<Exclude<AlertChannelName, 'in_app'>, string> = { slack: 'Replace webhook URL', email: 'Replace SMTP password', sms: 'Replace gateway token' };

type Form = {
  enabled: boolean;
  cooldown: string;
  /** A new secret to store; empty keeps the stored one. */
  secret: string;
  removeSecret: boolean;
  host: string;
  port: string;
  secure: boolean;
  from: string;
  to: string;
  user: string;
  allowInsecureAuth: boolean;
  caPem: string;
  url: string;
  recipients: string;
};

function fromView(v: ChannelSettingsView): Form {
  const email = v.channel === 'email' && v.config ? (v.config as EmailConfig) : null;
  const sms = v.channel === 'sms' && v.config ? (v.config as SmsConfig) : null;
  return {
    enabled: v.enabled,
    cooldown: String(v.cooldownSeconds),
    secret: '',
    removeSecret: false,
    host: email?.host ?? '',
    port: String(email?.port ?? 587),
    secure: email?.secure ?? false,
    from: email?.from ?? '',
    to: email?.to.join(', ') ?? '',
    user: email?.user ?? '',
    allowInsecureAuth: email?.allowInsecureAuth ?? false,
    caPem: email?.caPem ?? '',
    url: sms?.url ?? '',
    recipients: sms?.recipients.join(', ') ?? '',
  };
}

/** Undefined keeps the stored secret, null removes it, a string replaces it. */
const secretValue = (f: Form) => (f.removeSecret ? null : f.secret === '' ? undefined : f.secret);

/** The channel's form as the shared schema's input, with one message per field. */
function validateChannel(channel: AlertChannelName, f: Form, secretSet: boolean) {
  const cooldownSeconds = wholeNumber(f.cooldown);
  const errors: FieldErrors = {};
  let input: unknown;
  if (channel === 'slack') {
    input = { channel, enabled: f.enabled, cooldownSeconds, webhookUrl: secretValue(f) === undefined ? undefined : (secretValue(f)?.trim() ?? null) };
    const willHaveUrl = f.removeSecret ? false : f.secret.trim() !== '' || secretSet;
    if (f.enabled && !willHaveUrl) errors.webhookUrl = 'Set the webhook URL before enabling Slack';
  } else if (channel === 'email') {
    const config = {
      host: f.host,
      port: wholeNumber(f.port),
      secure: f.secure,
      from: f.from,
      to: list(f.to),
      user: f.user.trim() === '' ? null : f.user,
      allowInsecureAuth: f.allowInsecureAuth,
      caPem: f.caPem.trim() === '' ? null : f.caPem,
    };
    const c = validateForm(emailConfigSchema, config);
    if (!c.ok) Object.assign(errors, c.errors);
    input = { channel, enabled: f.enabled, cooldownSeconds, config, password: secretValue(f) };
  } else if (channel === 'sms') {
    const config = { url: f.url, recipients: list(f.recipients) };
    const c = validateForm(smsConfigSchema, config);
    if (!c.ok) Object.assign(errors, c.errors);
    input = { channel, enabled: f.enabled, cooldownSeconds, config, token: secretValue(f) };
  } else {
    input = { channel, cooldownSeconds };
  }
  const all = validateForm(updateChannelInputSchema, input);
  if (!all.ok) {
    for (const [k, m] of Object.entries(all.errors)) if (k !== 'config' || !Object.keys(errors).length) errors[k] ??= m;
  }
  if (Object.keys(errors).length || !all.ok) return { ok: false as const, errors };
  return { ok: true as const, data: all.data };
}

export function ChannelForm({ view }: { view: ChannelSettingsView }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const channel = view.channel;
  const initial = fromView(view);
  const [form, setForm] = useState<Form>(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));
  const text = (key: keyof Form) => (e: { target: { value: string } }) => set(key, e.target.value as never);
  const dirty = JSON.stringify(form) !== JSON.stringify(initial);

  const save = useMutation(
    trpc.admin.alerts.channels.update.mutationOptions({
      onSuccess: (v) => {
        toast.show(`${channelLabels[v.channel]} channel saved${v.channel === 'in_app' ? '' : v.enabled ? ' (enabled)' : ' (disabled)'}.`);
        // The card is keyed by updatedAt: the new settings remount it with a clean form.
        void queryClient.invalidateQueries(trpc.admin.alerts.channels.list.queryFilter());
      },
    }),
  );
  const test = useMutation(
    trpc.admin.alerts.channels.sendTest.mutationOptions({
      onSuccess: (_r, v) => {
        // In-app's test is an info alert in the active list.
        if (v.channel === 'in_app') void queryClient.invalidateQueries(trpc.admin.alerts.active.pathFilter());
      },
    }),
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (save.isPending) return;
    const result = validateChannel(channel, form, view.secretSet);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    save.mutate(result.data);
  };

  const secretKey = channel === 'slack' ? 'webhookUrl' : channel === 'email' ? 'password' : 'token';
  const secretField =
    channel === 'in_app' ? null : (
      <div className="field alerts-secret">
        <div className="alerts-secret-head">
          <label htmlFor={`${id}-secret`}>{view.secretSet ? replaceLabels[channel] : secretLabels[channel]}</label>
          <SecretStatus channel={channel} set={view.secretSet && !form.removeSecret} />
        </div>
        <div className="alerts-secret-row">
          <input
            id={`${id}-secret`}
            type="password"
            autoComplete="new-password"
            spellCheck={false}
            disabled={form.removeSecret}
            placeholder={view.secretSet ? 'stored — type to replace' : channel === 'slack' ? 'https://hooks.slack.com/services/…' : ''}
            value={form.secret}
            aria-invalid={!!errors[secretKey]}
            aria-describedby={`${id}-secret-hint`}
            onChange={text('secret')}
          />
          {view.secretSet && (
            <label className="checkbox-inline">
              <input type="checkbox" checked={form.removeSecret} onChange={(e) => setForm((f) => ({ ...f, removeSecret: e.target.checked, secret: '' }))} />
              Remove
            </label>
          )}
        </div>
        <div className={errors[secretKey] ? 'field-error' : 'field-hint'} id={`${id}-secret-hint`}>
          {errors[secretKey] ?? (view.secretSet ? 'Leave empty to keep the stored one.' : channel === 'slack' ? 'Required to enable Slack.' : 'Optional. Write-only.')}
        </div>
      </div>
    );

  const cooldown = wholeNumber(form.cooldown);
  const cooldownField = (
    <Field
      id={`${id}-cooldown`}
      label="Cool-down (seconds)"
      error={errors.cooldownSeconds}
      hint={Number.isSafeInteger(cooldown) && cooldown >= 0 ? (cooldown === 0 ? 'None: every repeat is sent' : `${formatCooldown(cooldown)} per type and subject`) : 'Seconds between sends'}
    >
      <input id={`${id}-cooldown`} type="number" min={0} max={604800} step={1} value={form.cooldown} onChange={text('cooldown')} />
    </Field>
  );

  const result = test.data;
  return (
    <form className="alerts-card" onSubmit={submit} noValidate data-testid={`channel-${channel}`} aria-label={`${channelLabels[channel]} channel`}>
      <CardHeader view={view}>
        {channel !== 'in_app' && (
          <label className="alerts-switch-label">
            <input type="checkbox" role="switch" className="alerts-switch" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} />
            Enabled
          </label>
        )}
      </CardHeader>

      {save.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(save.error)}
        </div>
      )}

      <div className="alerts-card-body alerts-grid-4">
        {channel === 'slack' && (
          <>
            <div className="alerts-span-3">{secretField}</div>
            {cooldownField}
          </>
        )}
        {channel === 'email' && (
          <>
            <Field id={`${id}-host`} label="SMTP host" error={errors.host} className="alerts-span-2">
              <input id={`${id}-host`} autoComplete="off" spellCheck={false} placeholder="smtp.example.com" value={form.host} onChange={text('host')} />
            </Field>
            <Field id={`${id}-port`} label="Port" error={errors.port}>
              <input id={`${id}-port`} type="number" min={1} max={65535} step={1} value={form.port} onChange={text('port')} />
            </Field>
            <div className="alerts-field-check">
              <label className="checkbox-inline" title="On: TLS from the first byte (port 465). Off: plain, upgraded by STARTTLS when the server offers it.">
                <input type="checkbox" checked={form.secure} onChange={(e) => set('secure', e.target.checked)} />
                Implicit TLS (port 465)
              </label>
              <div className="field-hint">Off: STARTTLS when offered</div>
            </div>
            <Field id={`${id}-from`} label="From" error={errors.from}>
              <input id={`${id}-from`} type="email" autoComplete="off" placeholder="alerts@example.com" value={form.from} onChange={text('from')} />
            </Field>
            <Field id={`${id}-to`} label="To" error={errors.to} hint="Comma-separated, up to 20" className="alerts-span-2">
              <input id={`${id}-to`} autoComplete="off" placeholder="ops@example.com, cto@example.com" value={form.to} onChange={text('to')} />
            </Field>
            {cooldownField}
            <Field id={`${id}-user`} label="SMTP user" error={errors.user} hint="Empty: no login">
              <input id={`${id}-user`} autoComplete="off" spellCheck={false} value={form.user} onChange={text('user')} />
            </Field>
            <div className="alerts-field-check">
              <label className="checkbox-inline" title="Off: the password is only sent over TLS; a server without STARTTLS is refused.">
                <input type="checkbox" checked={form.allowInsecureAuth} onChange={(e) => set('allowInsecureAuth', e.target.checked)} />
                Allow sign-in without TLS
              </label>
            </div>
            <Field id={`${id}-ca`} label="Custom CA (PEM)" error={errors.caPem} hint="Empty: the system's CAs" className="alerts-span-2">
              <textarea id={`${id}-ca`} rows={3} spellCheck={false} placeholder="-----BEGIN CERTIFICATE-----" value={form.caPem} onChange={text('caPem')} />
            </Field>
            <div className="alerts-span-2">{secretField}</div>
          </>
        )}
        {channel === 'sms' && (
          <>
            <Field id={`${id}-url`} label="Gateway URL" error={errors.url} className="alerts-span-3">
              <input id={`${id}-url`} type="url" autoComplete="off" spellCheck={false} placeholder="https://sms.example.com/send" value={form.url} onChange={text('url')} />
            </Field>
            {cooldownField}
            <Field id={`${id}-recipients`} label="Recipients" error={errors.recipients} hint="Phone numbers, comma-separated" className="alerts-span-2">
              <input id={`${id}-recipients`} autoComplete="off" placeholder="+4915112345678, +4917012345678" value={form.recipients} onChange={text('recipients')} />
            </Field>
            <div className="alerts-span-2">{secretField}</div>
          </>
        )}
        {channel === 'in_app' && (
          <>
            <p className="alerts-card-note alerts-span-3">
              Every alert is listed under Active and History on this page. The cool-down limits how often a repeat of one type and subject is recorded as a delivery.
            </p>
            {cooldownField}
          </>
        )}
      </div>

      <footer className="alerts-card-footer">
        <button
          type="button"
          className="button button-small"
          disabled={test.isPending}
          title={dirty ? 'Sends with the saved settings, not the unsaved changes' : 'Sends a test message with the saved settings'}
          onClick={() => test.mutate({ channel })}
        >
          {test.isPending ? 'Sending…' : 'Send test'}
        </button>
        <span className="alerts-test-result" role="status" data-testid={`channel-test-${channel}`}>
          {test.isError && <span className="alerts-test-fail">{errorMessage(test.error)}</span>}
          {result?.ok === true && <span className="alerts-test-ok">✓ Test sent{channel === 'in_app' ? ' (see Active)' : ''}</span>}
          {result?.ok === false && (
            <span className="alerts-test-fail" title={result.error}>
              ✗ {result.error}
            </span>
          )}
        </span>
        <span className="alerts-card-updated muted">
          Saved <When iso={view.updatedAt} />
        </span>
        {dirty && (
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              setForm(initial);
              setErrors({});
              save.reset();
            }}
          >
            Discard
          </button>
        )}
        <button type="submit" className="button button-small button-primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save'}
        </button>
      </footer>
    </form>
  );
}
