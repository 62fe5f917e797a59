import { useMutation } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { changePasswordInputSchema } from '../../../../shared/auth';
import { useMe } from '../../auth';
import { Field } from '../../components/FormField';
import { validateForm } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { formAlert, serverFieldErrors } from '../../lib/errors';
import type { FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

/** The signed-in person's own password (admins and analysts alike). */
export function AccountSection() {
  const trpc = useTRPC();
  const me = useMe();
  const toast = useToast();
  const id = useId();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      onSuccess: () => {
        toast.show('Password changed. Your other sessions were signed out.');
        setCurrent('');
        setNew('');
      },
      onError: (err) => setErrors(serverFieldErrors(err)),
    }),
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (change.isPending) return;
    const result = validateForm(changePasswordInputSchema, { currentPassword, newPassword });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    change.mutate(result.data);
  };

  return (
    <section className="section" aria-labelledby={`${id}-title`}>
      <div className="section-header">
        <div>
          <h2 id={`${id}-title`}>Your account</h2>
          <p className="section-description">Signed in as {me?.email}. Change your password (at least 12 characters).</p>
        </div>
      </div>
      <form onSubmit={submit} noValidate className="inline-form" data-testid="change-password">
        {formAlert(change.error, errors) && (
          <div className="alert alert-error" role="alert">
            {formAlert(change.error, errors)}
          </div>
        )}
        <Field id={`${id}-current`} label="Current password" error={errors.currentPassword}>
          <input id={`${id}-current`} type="password" autoComplete="current-password" value={currentPassword} onChange={(e) => setCurrent(e.target.value)} />
        </Field>
        <Field id={`${id}-new`} label="New password" error={errors.newPassword}>
          <input id={`${id}-new`} type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNew(e.target.value)} />
        </Field>
        <button type="submit" className="button button-primary" disabled={change.isPending}>
          {change.isPending ? 'Saving…' : 'Change password'}
        </button>
      </form>
    </section>
  );
}
