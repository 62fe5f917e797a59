import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { alertActionInputSchema } from '../../../../shared/alerts';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, validateForm } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import type { FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { LevelBadge, Occurrences, type AlertView } from './badges';

export type AlertAction = { kind: 'acknowledge' | 'resolve'; alert: AlertView };

/**
 * Acknowledge (someone is on it) or resolve (it is over) one alert, with an optional note for the
 * audit log. On success the caller gets the alert as it is now.
 */
export function AlertActionDialog({ action, onClose, onDone }: { action: AlertAction | null; onClose: () => void; onDone: (alert: AlertView) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});

  const onSuccess = (a: AlertView) => {
    toast.show(a.status === 'resolved' ? `Alert #${a.id} (${a.type}${a.subject ? ` · ${a.subject}` : ''}) resolved.` : `Alert #${a.id} (${a.type}${a.subject ? ` · ${a.subject}` : ''}) acknowledged.`);
    void queryClient.invalidateQueries(trpc.admin.alerts.active.pathFilter());
    void queryClient.invalidateQueries(trpc.admin.alerts.history.pathFilter());
    onDone(a);
  };
  const acknowledge = useMutation(trpc.admin.alerts.acknowledge.mutationOptions({ onSuccess }));
  const resolve = useMutation(trpc.admin.alerts.resolve.mutationOptions({ onSuccess }));
  const mutation = action?.kind === 'resolve' ? resolve : acknowledge;

  const { reset: resetAcknowledge } = acknowledge;
  const { reset: resetResolve } = resolve;
  useEffect(() => {
    if (action) {
      setNote('');
      setErrors({});
      resetAcknowledge();
      resetResolve();
    }
  }, [action, resetAcknowledge, resetResolve]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!action || mutation.isPending) return;
    const result = validateForm(alertActionInputSchema, { id: action.alert.id, note: note.trim() || undefined });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    mutation.mutate(result.data);
  };

  const resolving = action?.kind === 'resolve';
  const a = action?.alert;
  return (
    <Dialog open={action !== null} title={resolving ? 'Resolve alert' : 'Acknowledge alert'} onClose={onClose} width={480}>
      {a && (
        <form onSubmit={submit} noValidate>
          {mutation.isError && (
            <div className="alert alert-error" role="alert">
              {errorMessage(mutation.error)}
            </div>
          )}
          <div className="alerts-summary">
            <div className="alerts-summary-head">
              <LevelBadge level={a.level} />
              <span className="mono strong">{a.type}</span>
              {a.subject && <span className="alerts-subject">{a.subject}</span>}
              <Occurrences n={a.occurrences} />
              <span className="muted">#{a.id}</span>
            </div>
            <p className="alerts-summary-message">{a.message}</p>
          </div>
          <p className="dialog-lead">
            {resolving
              ? 'The alert closes and leaves the active list. If the condition is still there, the next check opens a new alert.'
              : 'Marks the alert as being handled by you. It stays in the active list until it is resolved; repeats are still counted on it.'}
          </p>
          <Field id={`${id}-note`} label="Note (optional)" error={errors.note} hint="Recorded in the audit log.">
            <input
              id={`${id}-note`}
              data-autofocus
              autoComplete="off"
              maxLength={500}
              placeholder={resolving ? 'e.g. pool refilled' : 'e.g. looking into it'}
              value={note}
              onChange={(e) => setNote(e.target.value)}
            />
          </Field>
          <FormActions onClose={onClose} busy={mutation.isPending} label={resolving ? 'Resolve' : 'Acknowledge'} busyLabel={resolving ? 'Resolving…' : 'Acknowledging…'} />
        </form>
      )}
    </Dialog>
  );
}
