import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { changePasswordInputSchema, type MeView } from '../../../shared/auth';
import { Field, validateForm } from '../components/FormField';
import { errorCode, errorMessage } from '../lib/errors';
import { type FieldErrors } from '../lib/forms';
import { isMeQuery, useTRPC } from '../trpc';

/**
 * Shown instead of the shell while the account's password is one generated for it: the server
 * refuses everything but auth.changePassword (and auth.me, auth.logout) until it is replaced.
 */
export function ForcedPasswordPage({ me }: { me: MeView }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [repeat, setRepeat] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});

  useEffect(() => {
    document.title = 'Choose your password · Creditdesk';
  }, []);

  const backToMe = () => {
    queryClient.removeQueries({ predicate: (q) => !isMeQuery(q.queryKey) });
    return queryClient.resetQueries(trpc.auth.me.queryFilter());
  };
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      onSuccess: backToMe,
      onError: (err) => {
        // Too many wrong generated passwords ended the session: back to the sign-in page.
        if (errorCode(err) === 'UNAUTHORIZED') void backToMe();
      },
    }),
  );
  const logout = useMutation(trpc.auth.logout.mutationOptions({ onSettled: backToMe }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (change.isPending) return;
    const result = validateForm(changePasswordInputSchema, { currentPassword, newPassword });
    if (!result.ok) return setErrors(result.errors);
    if (repeat !== newPassword) return setErrors({ repeat: 'The two new passwords differ.' });
    setErrors({});
    change.mutate(result.data);
  };

  return (
    <div className="login-screen">
      <form className="login-card" onSubmit={submit} noValidate aria-labelledby="forced-title" data-testid="forced-password">
        <div className="login-brand">
          <span className="brand-mark" aria-hidden>
            C
          </span>
          <div>
            <h1 id="forced-title">Choose your password</h1>
            <p className="muted">{me.email} was given a generated password. Replace it with your own (at least 12 characters) to continue.</p>
          </div>
        </div>
        {change.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(change.error)}
          </div>
        )}
        <Field id="forced-current" label="Generated password" error={errors.currentPassword}>
          <input id="forced-current" type="password" autoComplete="current-password" autoFocus value={currentPassword} onChange={(e) => setCurrent(e.target.value)} />
        </Field>
        <Field id="forced-new" label="New password" error={errors.newPassword}>
          <input id="forced-new" type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNew(e.target.value)} />
        </Field>
        <Field id="forced-repeat" label="New password again" error={errors.repeat}>
          <input id="forced-repeat" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} />
        </Field>
        <button type="submit" className="button button-primary button-block" disabled={change.isPending}>
          {change.isPending ? 'Saving…' : 'Set password and continue'}
        </button>
        <button type="button" className="button button-small login-switch" onClick={() => logout.mutate()} disabled={logout.isPending}>
          Sign out
        </button>
      </form>
    </div>
  );
}
