import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { totpCodeInputSchema, totpDisableInputSchema } from '../../../../shared/auth';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, validateForm } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import type { FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

/** Optional two-factor sign-in with an authenticator app, for admins and analysts alike. */
export function TwoFactorSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const status = useQuery(trpc.auth.totp.status.queryOptions());
  const [settingUp, setSettingUp] = useState(false);
  const [disabling, setDisabling] = useState(false);
  const refresh = () => void queryClient.invalidateQueries(trpc.auth.totp.status.queryFilter());

  const s = status.data;
  return (
    <section className="section" aria-labelledby="totp-title" data-testid="two-factor">
      <div className="section-header">
        <div>
          <h2 id="totp-title">Two-factor sign-in</h2>
          <p className="section-description">
            {s?.enabled
              ? `On since ${formatDateTime(s.enabledAt)}. Signing in asks for a code from your authenticator app. ${s.recoveryCodesLeft} of 10 recovery codes left.`
              : 'Off. Turn it on to be asked for a code from an authenticator app (1Password, Google Authenticator, …) after your password.'}
          </p>
        </div>
        {s &&
          (s.enabled ? (
            <button type="button" className="button button-danger-quiet" onClick={() => setDisabling(true)}>
              Turn off two-factor
            </button>
          ) : (
            <button type="button" className="button button-primary" onClick={() => setSettingUp(true)}>
              Set up two-factor
            </button>
          ))}
      </div>
      {status.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(status.error)}
        </div>
      )}
      {settingUp && <SetupDialog onClose={() => (setSettingUp(false), refresh())} />}
      {disabling && <DisableDialog onClose={() => (setDisabling(false), refresh())} />}
    </section>
  );
}

/** Begin → scan the QR (or type the secret) → confirm with a code → the recovery codes, shown once. */
function SetupDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const begin = useMutation(trpc.auth.totp.begin.mutationOptions());
  const confirm = useMutation(trpc.auth.totp.confirm.mutationOptions());
  const beginNow = begin.mutate;

  useEffect(() => {
    beginNow();
  }, [beginNow]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (confirm.isPending) return;
    const result = validateForm(totpCodeInputSchema, { code });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    confirm.mutate(result.data);
  };

  const codes = confirm.data?.recoveryCodes;
  return (
    <Dialog open title={codes ? 'Save your recovery codes' : 'Set up two-factor sign-in'} onClose={onClose} width={520}>
      {begin.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(begin.error)}
        </div>
      )}
      {begin.isPending && <p className="muted">Preparing…</p>}
      {codes ? (
        <div data-testid="recovery-codes">
          <p>
            Two-factor sign-in is on. If you lose your phone, each of these codes signs you in once. <strong>Store them now: they are not shown again.</strong>
          </p>
          <ol className="recovery-codes mono">
            {codes.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ol>
          <div className="form-actions">
            <button type="button" className="button button-primary" data-autofocus onClick={onClose}>
              I have stored them
            </button>
          </div>
        </div>
      ) : (
        begin.data && (
          <form onSubmit={submit} noValidate>
            <div className="totp-setup">
              <img src={begin.data.qrDataUrl} alt="QR code to scan with an authenticator app" width={200} height={200} />
              <div>
                <p>Scan the code with your authenticator app, or type this key into it:</p>
                <code className="totp-secret" data-testid="totp-secret">
                  {begin.data.secret}
                </code>
              </div>
            </div>
            {confirm.isError && (
              <div className="alert alert-error" role="alert">
                {errorMessage(confirm.error)}
              </div>
            )}
            <Field id="totp-code" label="Code from the app" error={errors.code} hint="The 6 digits it shows now.">
              <input id="totp-code" inputMode="numeric" autoComplete="one-time-code" data-autofocus value={code} onChange={(e) => setCode(e.target.value)} />
            </Field>
            <FormActions onClose={onClose} busy={confirm.isPending} label="Turn on" busyLabel="Checking…" />
          </form>
        )
      )}
    </Dialog>
  );
}

function DisableDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const disable = useMutation(
    trpc.auth.totp.disable.mutationOptions({
      onSuccess: () => {
        toast.show('Two-factor sign-in is off.');
        onClose();
      },
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (disable.isPending) return;
    const result = validateForm(totpDisableInputSchema, { password });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    disable.mutate(result.data);
  };
  return (
    <Dialog open title="Turn off two-factor sign-in" onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <p>Signing in will ask for your password alone. Your recovery codes stop working.</p>
        {disable.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(disable.error)}
          </div>
        )}
        <Field id="totp-disable-password" label="Your password" error={errors.password}>
          <input id="totp-disable-password" type="password" autoComplete="current-password" data-autofocus value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <FormActions onClose={onClose} busy={disable.isPending} label="Turn off" busyLabel="Turning off…" danger />
      </form>
    </Dialog>
  );
}
