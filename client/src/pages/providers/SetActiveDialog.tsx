import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { setProviderActiveInputSchema, type ProviderView } from '../../../../shared/providers';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, validateForm } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

/** Enables or disables a provider (whichever it is not), with an optional reason for the audit log. */
export function SetActiveDialog({ provider, onClose }: { provider: ProviderView | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const enabling = provider ? !provider.isActive : false;

  const setActive = useMutation(
    trpc.admin.providers.setActive.mutationOptions({
      onSuccess: (_r, input) => {
        toast.show(input.isActive ? `Provider ${input.name} enabled.` : `Provider ${input.name} disabled: requests skip it until it is enabled.`);
        void queryClient.invalidateQueries(trpc.admin.providers.pathFilter());
        onClose();
      },
    }),
  );

  const { reset: resetSetActive } = setActive;
  useEffect(() => {
    if (provider) {
      setReason('');
      setErrors({});
      resetSetActive();
    }
  }, [provider, resetSetActive]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!provider || setActive.isPending) return;
    const result = validateForm(setProviderActiveInputSchema, { name: provider.name, isActive: enabling, reason: reason.trim() || undefined });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    setActive.mutate(result.data);
  };

  return (
    <Dialog open={provider !== null} title={provider ? `${enabling ? 'Enable' : 'Disable'} ${provider.name}` : 'Provider'} onClose={onClose} width={440}>
      {provider && (
        <form onSubmit={submit} noValidate>
          {setActive.isError && (
            <div className="alert alert-error" role="alert">
              {errorMessage(setActive.error)}
            </div>
          )}
          <p className="dialog-lead">
            {enabling ? (
              <>
                Enable <strong>{provider.name}</strong>? Enhancements are routed to it again at priority {provider.priority}.
              </>
            ) : (
              <>
                Disable <strong>{provider.name}</strong>? Enhancements skip it and fall back to the next provider in priority order.
              </>
            )}
          </p>
          <Field id={`${id}-reason`} label="Reason (optional)" error={errors.reason} hint="Recorded in the audit log.">
            <input
              id={`${id}-reason`}
              data-autofocus
              autoComplete="off"
              maxLength={500}
              placeholder={enabling ? 'e.g. incident resolved' : 'e.g. provider incident'}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          </Field>
          <FormActions onClose={onClose} busy={setActive.isPending} label={enabling ? 'Enable provider' : 'Disable provider'} busyLabel={enabling ? 'Enabling…' : 'Disabling…'} danger={!enabling} />
        </form>
      )}
    </Dialog>
  );
}
