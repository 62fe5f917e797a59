import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import { reasonSchema } from '../../../shared/common';
import { validate } from '../lib/forms';
import { Dialog } from './Dialog';
import { FormActions } from './FormField';

type ReasonDialogProps = {
  open: boolean;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  busyLabel?: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  /** Placeholder of the reason field, e.g. "Refund: the enhancement failed". */
  placeholder?: string;
  onConfirm: (reason: string) => void;
  onClose: () => void;
  width?: number;
};

/**
 * A confirmation that asks why: every admin change lands in the audit log with its reason, so the
 * reason is required (the shared reasonSchema: at least 3 characters).
 */
export function ReasonDialog({ open, title, message, confirmLabel, busyLabel, danger, busy, error, placeholder, onConfirm, onClose, width = 440 }: ReasonDialogProps) {
  const id = useId();
  const [reason, setReason] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);

  useEffect(() => {
    if (open) {
      setReason('');
      setFieldError(null);
    }
  }, [open]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const result = validate(reasonSchema, reason);
    if (!result.ok) {
      setFieldError(result.errors._form ?? 'A reason is required');
      return;
    }
    setFieldError(null);
    onConfirm(result.data);
  };

  return (
    <Dialog open={open} title={title} onClose={onClose} width={width}>
      <form onSubmit={submit} noValidate>
        {error && (
          <div className="alert alert-error" role="alert">
            {error}
          </div>
        )}
        <div className="confirm-message">{message}</div>
        <div className="field">
          <label htmlFor={`${id}-reason`}>Reason</label>
          <input
            id={`${id}-reason`}
            data-autofocus
            autoComplete="off"
            value={reason}
            maxLength={500}
            placeholder={placeholder}
            onChange={(e) => setReason(e.target.value)}
            aria-invalid={!!fieldError}
            aria-describedby={`${id}-reason-hint`}
          />
          <div className={fieldError ? 'field-error' : 'field-hint'} id={`${id}-reason-hint`}>
            {fieldError ?? 'Recorded in the audit log.'}
          </div>
        </div>
        <FormActions onClose={onClose} busy={busy} label={confirmLabel} busyLabel={busyLabel} danger={danger} />
      </form>
    </Dialog>
  );
}
