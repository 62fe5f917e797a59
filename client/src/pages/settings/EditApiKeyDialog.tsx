import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { updateApiKeyInputSchema, type ApiKeyView } from '../../../../shared/auth';
import { apiKeyScopes, type ApiKeyScope } from '../../../../shared/enums';
import { Dialog } from '../../components/Dialog';
import { ChoiceListField, Field, FormActions } from '../../components/FormField';
import { errorMessage } from '../../lib/errors';
import { validate, type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { scopeDescriptions } from './CreateApiKeyDialog';

/** Renames a key or changes its scopes in place: the secret stays, a narrowed scope applies to the app's very next call. */
export function EditApiKeyDialog({ apiKey, onClose, onSaved }: { apiKey: ApiKeyView; onClose: () => void; onSaved: (key: ApiKeyView) => void }) {
  const trpc = useTRPC();
  const [name, setName] = useState(apiKey.name);
  const [scopes, setScopes] = useState<ApiKeyScope[]>(apiKey.scopes);
  const [errors, setErrors] = useState<FieldErrors>({});
  const update = useMutation(trpc.admin.apiKeys.update.mutationOptions({ onSuccess: onSaved }));
  const removed = apiKey.scopes.filter((s) => !scopes.includes(s));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (update.isPending) return;
    const result = validate(updateApiKeyInputSchema, { id: apiKey.id, name, scopes });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    update.mutate(result.data);
  };

  return (
    <Dialog open title="Edit API key" onClose={onClose} width={480}>
      <form onSubmit={submit} noValidate>
        {update.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(update.error)}
          </div>
        )}
        <p>
          The secret (<code>{apiKey.prefix}…</code>) stays the same; apps keep using it.
        </p>
        <Field id="edit-api-key-name" label="Name" error={errors.name} hint="Names the app and environment that use the key.">
          <input id="edit-api-key-name" data-autofocus value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
        </Field>
        <ChoiceListField id="edit-api-key-scopes" legend="Scopes" name="scopes" options={apiKeyScopes} descriptions={scopeDescriptions} value={scopes} onChange={setScopes} error={errors.scopes} />
        {removed.length > 0 && (
          <div className="alert alert-warning" role="status" data-testid="scope-removal-warning">
            Calls that need {removed.join(', ')} are refused from the app&apos;s next request.
          </div>
        )}
        <FormActions onClose={onClose} busy={update.isPending} label="Save changes" />
      </form>
    </Dialog>
  );
}
