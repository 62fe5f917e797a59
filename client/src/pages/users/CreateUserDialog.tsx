import { useMutation } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { tiers, type Tier } from '../../../../shared/enums';
import { createUserInputSchema } from '../../../../shared/users';
import { formatCount } from '../../components/Amount';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, validateForm } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorFields, errorMessage } from '../../lib/errors';
import { type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { tierLabel } from './TierBadge';

/** A user made by hand: the same first allocation product apps get from users.upsert. */
export function CreateUserDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (userId: string) => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const id = useId();
  const [userId, setUserId] = useState('');
  const [email, setEmail] = useState('');
  const [tier, setTier] = useState<Tier>('free');
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation(
    trpc.admin.users.create.mutationOptions({
      onSuccess: (u) => {
        toast.show(`Created ${u.userId} on ${tierLabel(u.tier)} with ${formatCount(u.currentBalance)} credits.`);
        onCreated(u.userId);
        onClose();
      },
      onError: (err) => {
        // "That id exists" belongs under the id field, not above the form.
        if (errorFields(err).includes('userId') || /already exists/.test(err.message)) setErrors({ userId: errorMessage(err) });
      },
    }),
  );

  const { reset: resetCreate } = create;
  useEffect(() => {
    if (open) {
      setUserId('');
      setEmail('');
      setTier('free');
      setErrors({});
      resetCreate();
    }
  }, [open, resetCreate]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (create.isPending) return;
    const result = validateForm(createUserInputSchema, { userId, email: email.trim() || undefined, tier });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    create.mutate(result.data);
  };

  const formError = create.isError && !errors.userId ? errorMessage(create.error) : null;
  return (
    <Dialog open={open} title="New user" onClose={onClose} width={440}>
      <form onSubmit={submit} noValidate>
        {formError && (
          <div className="alert alert-error" role="alert">
            {formError}
          </div>
        )}
        <p className="dialog-lead">The user starts with this month's allowance of their tier, as when a product app creates them.</p>
        <Field id={`${id}-user`} label="External user ID" error={errors.userId} hint="The product's own id: letters, digits and _ . : @ -">
          <input id={`${id}-user`} data-autofocus autoComplete="off" value={userId} onChange={(e) => setUserId(e.target.value)} />
        </Field>
        <Field id={`${id}-email`} label="Email (optional)" error={errors.email}>
          <input id={`${id}-email`} type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field id={`${id}-tier`} label="Tier" error={errors.tier}>
          <select id={`${id}-tier`} value={tier} onChange={(e) => setTier(e.target.value as Tier)}>
            {tiers.map((t) => (
              <option key={t} value={t}>
                {tierLabel(t)}
              </option>
            ))}
          </select>
        </Field>
        <FormActions onClose={onClose} busy={create.isPending} label="Create user" busyLabel="Creating…" />
      </form>
    </Dialog>
  );
}
