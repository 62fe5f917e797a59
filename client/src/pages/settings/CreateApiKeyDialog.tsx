import { useMutation } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { createApiKeyInputSchema } from '../../../../shared/auth';
import { apiKeyScopes, type ApiKeyScope } from '../../../../shared/enums';
import { Dialog } from '../../components/Dialog';
import { ChoiceListField, Field, FormActions } from '../../components/FormField';
import { errorMessage } from '../../lib/errors';
import { validate, type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

export const scopeDescriptions: Record<ApiKeyScope, string> = {
  'credits:read': 'Read balances and credit history',
  'credits:write': 'Consume, reserve, capture and release credits',
  enhance: 'Run image enhancements',
  'users:write': 'Create users and change their tier',
};

export function CreateApiKeyDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (name: string, secret: string) => void }) {
  const trpc = useTRPC();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>([]);
  /** `datetime-local` text in the browser's time zone; empty never expires. */
  const [expires, setExpires] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation(
    trpc.admin.apiKeys.create.mutationOptions({
      onSuccess: (result) => onCreated(result.apiKey.name, result.secret),
    }),
  );

  // A fresh form each time the dialog opens.
  const { reset: resetCreate } = create;
  useEffect(() => {
    if (open) {
      setName('');
      setScopes([]);
      setExpires('');
      setErrors({});
      resetCreate();
    }
  }, [open, resetCreate]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (create.isPending) return;
    const expiresAt = expires ? new Date(expires) : null;
    if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
      setErrors({ expiresAt: 'Choose a time in the future, or leave it empty for a key that never expires.' });
      return;
    }
    const result = validate(createApiKeyInputSchema, { name, scopes, expiresAt: expiresAt?.toISOString() ?? null });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    create.mutate(result.data);
  };

  return (
    <Dialog open={open} title="Create API key" onClose={onClose} width={480}>
      <form onSubmit={submit} noValidate>
        {create.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(create.error)}
          </div>
        )}
        <Field id="api-key-name" label="Name" error={errors.name} hint="Names the app and environment that will use the key.">
          <input id="api-key-name" data-autofocus value={name} maxLength={100} placeholder="e.g. moodboard-web production" onChange={(e) => setName(e.target.value)} />
        </Field>
        <ChoiceListField id="api-key-scopes" legend="Scopes" name="scopes" options={apiKeyScopes} descriptions={scopeDescriptions} value={scopes} onChange={setScopes} error={errors.scopes} />
        <Field id="api-key-expires" label="Expires (optional)" error={errors.expiresAt} hint="Your local time. Empty: the key works until revoked.">
          <input id="api-key-expires" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </Field>
        <FormActions onClose={onClose} busy={create.isPending} label="Create key" />
      </form>
    </Dialog>
  );
}
