import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { usersOutThresholdInputSchema } from '../../../../shared/pools';
import { isAdmin, useMe } from '../../auth';
import { formatCount } from '../../components/Amount';
import { Field, ReasonField, validateForm, wholeNumber } from '../../components/FormField';
import { Skeleton } from '../../components/Skeleton';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import type { FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

/**
 * The one threshold of the "users out of credits" alert (the Alerts page rule only turns the check on
 * and picks its channels): per paying tier, more than this many users at zero credits raises it.
 */
export function UsersOutThresholdSection() {
  const trpc = useTRPC();
  const me = useMe();
  const settings = useQuery(trpc.admin.platformSettings.get.queryOptions());
  return (
    <section className="section" id="users-out-threshold" aria-labelledby="users-out-title" data-testid="users-out-threshold-section">
      <div className="section-header">
        <div>
          <h2 id="users-out-title">Users out of credits alert</h2>
          <p className="section-description">
            Alerts, per paying tier (plus, pro), when more than this many of its users have no credits left. Free users are never counted. The alert is turned on and routed by its rule on the Alerts
            page.
          </p>
        </div>
      </div>
      {settings.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(settings.error)}
        </div>
      )}
      {settings.isPending && <Skeleton lines={1} />}
      {settings.data &&
        (isAdmin(me) ? (
          <ThresholdForm current={settings.data.usersOutOfCreditsThreshold} />
        ) : (
          <dl className="kv-grid" data-testid="users-out-threshold-read-only">
            <dt>Alert when more than</dt>
            <dd>{formatCount(settings.data.usersOutOfCreditsThreshold)} users of a tier are out of credits</dd>
          </dl>
        ))}
    </section>
  );
}

function ThresholdForm({ current }: { current: number }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [value, setValue] = useState(String(current));
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation(
    trpc.admin.platformSettings.setUsersOutThreshold.mutationOptions({
      onSuccess: (s) => {
        queryClient.setQueryData(trpc.admin.platformSettings.get.queryKey(), s);
        setValue(String(s.usersOutOfCreditsThreshold));
        setReason('');
        toast.show(`Users out of credits threshold saved: more than ${formatCount(s.usersOutOfCreditsThreshold)} users of a tier.`);
      },
    }),
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (save.isPending) return;
    const result = validateForm(usersOutThresholdInputSchema, { usersOutOfCreditsThreshold: wholeNumber(value), reason });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    save.mutate(result.data);
  };

  return (
    <form onSubmit={submit} noValidate className="settings-form" aria-label="Users out of credits alert">
      {save.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(save.error)}
        </div>
      )}
      <div className="form-grid form-grid-4">
        <Field id={`${id}-threshold`} label="Alert when more than (users)" error={errors.usersOutOfCreditsThreshold} hint="Per paying tier; a whole number, 1 or more">
          <input id={`${id}-threshold`} type="number" min={1} step={1} value={value} onChange={(e) => setValue(e.target.value)} />
        </Field>
      </div>
      <div className="form-inline-submit">
        <ReasonField id={`${id}-reason`} value={reason} onChange={setReason} error={errors.reason} placeholder="e.g. fewer pages for on-call" />
        <div className="form-inline-buttons">
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : 'Save threshold'}
          </button>
        </div>
      </div>
    </form>
  );
}
