import { useMutation } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { createAdminInputSchema, type AdminView } from '../../../../shared/auth';
import { adminRoles, type AdminRole } from '../../../../shared/enums';
import { Dialog } from '../../components/Dialog';
import { errorMessage } from '../../lib/errors';
import { validate, type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { FormActions } from '../../components/FormField';

const roleDescriptions: Record<AdminRole, string> = {
  admin: 'Admin — manages everything',
  analyst: 'Analyst — read-only',
};

export function CreateAdminDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (admin: AdminView & { generatedPassword: string | null }) => void }) {
  const trpc = useTRPC();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<AdminRole>('analyst');
  const [password, setPassword] = useState('');
  const [mustChange, setMustChange] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation(trpc.admin.admins.create.mutationOptions({ onSuccess: onCreated }));

  const { reset: resetCreate } = create;
  useEffect(() => {
    if (open) {
      setEmail('');
      setRole('analyst');
      setPassword('');
      setMustChange(false);
      setErrors({});
      resetCreate();
    }
  }, [open, resetCreate]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (create.isPending) return;
    // No password typed: the server generates one, which must be changed at the first sign-in.
    const result = validate(createAdminInputSchema, password === '' ? { email, role } : { email, role, password, mustChangePassword: mustChange });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    create.mutate(result.data);
  };

  return (
    <Dialog open={open} title="Add account" onClose={onClose} width={420}>
      <form onSubmit={submit} noValidate>
        {create.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(create.error)}
          </div>
        )}
        <div className="field">
          <label htmlFor="admin-email">Email</label>
          <input
            id="admin-email"
            type="email"
            data-autofocus
            autoComplete="off"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            aria-invalid={!!errors.email}
            aria-describedby={errors.email ? 'admin-email-error' : undefined}
          />
          {errors.email && (
            <div className="field-error" id="admin-email-error">
              {errors.email}
            </div>
          )}
        </div>
        <div className="field">
          <label htmlFor="admin-role">Role</label>
          <select id="admin-role" value={role} onChange={(e) => setRole(e.target.value as AdminRole)}>
            {adminRoles.map((r) => (
              <option key={r} value={r}>
                {roleDescriptions[r]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="admin-password">Initial password (optional)</label>
          <input
            id="admin-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={!!errors.password}
            aria-describedby="admin-password-hint"
          />
          <div className={errors.password ? 'field-error' : 'field-hint'} id="admin-password-hint">
            {errors.password ?? 'Leave empty to generate one, shown once. Else at least 12 characters; share it over a secure channel.'}
          </div>
        </div>
        {password !== '' && (
          <label className="checkbox">
            <input type="checkbox" checked={mustChange} onChange={(e) => setMustChange(e.target.checked)} />
            <span>Ask them to choose their own password at the first sign-in</span>
          </label>
        )}
        <FormActions onClose={onClose} busy={create.isPending} label="Create account" />
      </form>
    </Dialog>
  );
}
