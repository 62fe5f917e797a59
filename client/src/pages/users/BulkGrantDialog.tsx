import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { BULK_GRANT_MAX_USERS, bulkGrantInputSchema, type UserFilter } from '../../../../shared/users';
import { formatCount } from '../../components/Amount';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, FormPreview, ReasonField, validateForm, wholeNumber } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

type Props = { open: boolean; filter: UserFilter; filterLabel: string; onClose: () => void; onDone: () => void };

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** One key per opening of the dialog: a retried or doubled confirmation grants nothing twice. */
function operationKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `bulk-grant-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Bonus credits to every user the Users page's filters match, with one reason. The count and total
 * are previewed live, confirmed in a second step, and the server grants only if the filters still
 * match the count confirmed.
 */
export function BulkGrantDialog({ open, filter, filterLabel, onClose, onDone }: Props) {
  const trpc = useTRPC();
  const toast = useToast();
  const id = useId();
  const [credits, setCredits] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [confirming, setConfirming] = useState(false);
  const [key, setKey] = useState(operationKey);
  const n = wholeNumber(credits);
  const creditsValid = Number.isSafeInteger(n) && n >= 1 && n <= 10_000;
  const preview = useQuery(trpc.admin.users.bulkGrantPreview.queryOptions({ filter, credits: creditsValid ? n : 1 }, { enabled: open, placeholderData: keepPreviousData }));
  const grant = useMutation(
    trpc.admin.users.bulkGrant.mutationOptions({
      onSuccess: (r) => {
        toast.show(
          r.replayed
            ? `Already granted: ${plural(r.usersGranted, 'user')} got their credits the first time; nothing more was granted.`
            : `Granted ${plural(r.totalCredits, 'credit')} to ${plural(r.usersGranted, 'user')}.`,
        );
        onDone();
        onClose();
      },
      onError: () => {
        setConfirming(false);
        void preview.refetch();
      },
    }),
  );

  const { reset: resetGrant } = grant;
  useEffect(() => {
    if (open) {
      setCredits('');
      setReason('');
      setErrors({});
      setConfirming(false);
      setKey(operationKey());
      resetGrant();
    }
  }, [open, resetGrant]);

  const users = preview.data?.users ?? 0;
  const tooMany = users > BULK_GRANT_MAX_USERS;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (grant.isPending) return;
    const result = validateForm(bulkGrantInputSchema, { filter, credits: n, reason, idempotencyKey: key, expectedUsers: Math.max(1, users) });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    if (users === 0) {
      setErrors({ _form: 'No users match these filters.' });
      return;
    }
    if (tooMany) {
      setErrors({ _form: `A bulk grant reaches at most ${formatCount(BULK_GRANT_MAX_USERS)} users: narrow the filters.` });
      return;
    }
    setErrors({});
    if (!confirming) {
      setConfirming(true);
      return;
    }
    grant.mutate(result.data);
  };

  return (
    <Dialog open={open} title="Bulk grant" onClose={onClose} width={480}>
      <form onSubmit={submit} noValidate>
        {(grant.isError || errors._form) && (
          <div className="alert alert-error" role="alert">
            {errors._form ?? errorMessage(grant.error)}
          </div>
        )}
        <p className="dialog-lead">
          Bonus credits for every user shown on the Users page: <strong>{filterLabel}</strong>. Each gets one ledger entry and one audit entry with this reason.
        </p>
        <Field id={`${id}-credits`} label="Credits per user" error={errors.credits} hint="1 to 10,000">
          <input
            id={`${id}-credits`}
            type="number"
            inputMode="numeric"
            min={1}
            max={10_000}
            step={1}
            data-autofocus
            disabled={confirming}
            value={credits}
            onChange={(e) => setCredits(e.target.value)}
          />
        </Field>
        <ReasonField id={`${id}-reason`} value={reason} onChange={setReason} error={errors.reason} placeholder="e.g. goodwill after the outage on 12 May" />
        <FormPreview testId="bulk-grant-preview">
          {preview.isPending ? (
            'Counting users…'
          ) : (
            <>
              <strong>{plural(users, 'user')}</strong> match
              {creditsValid ? (
                <>
                  {' '}
                  · <strong>{plural(users * n, 'credit')}</strong> in total
                </>
              ) : null}
            </>
          )}
        </FormPreview>
        {confirming && (
          <p className="confirm-note" role="status" data-testid="bulk-grant-confirm">
            Grant {plural(n, 'credit')} to each of {plural(users, 'user')} ({plural(users * n, 'credit')} in total)? This cannot be undone in one step.
          </p>
        )}
        {confirming ? (
          <div className="form-actions">
            <button type="button" className="button" onClick={() => setConfirming(false)}>
              Back
            </button>
            {/* Focus moves to the one button that grants, so Enter after reading confirms. */}
            <button type="submit" className="button button-primary" disabled={grant.isPending} autoFocus>
              {grant.isPending ? 'Granting…' : `Grant to ${plural(users, 'user')}`}
            </button>
          </div>
        ) : (
          <FormActions onClose={onClose} busy={false} label="Preview grant" />
        )}
      </form>
    </Dialog>
  );
}
