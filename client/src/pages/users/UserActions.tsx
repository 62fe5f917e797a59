import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { adjustInputSchema, creditsSchema, grantInputSchema, setTierInputSchema, type Balance } from '../../../../shared/credits';
import { tiers, type Tier } from '../../../../shared/enums';
import { Delta, formatCount } from '../../components/Amount';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, FormPreview, ReasonField, validateForm, wholeNumber } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage, formAlert, serverFieldErrors } from '../../lib/errors';
import { validOrNull, type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { tierLabel } from './TierBadge';

export type UserDetail = Balance & { email: string | null; createdAt: string };

type ActionDialogProps = {
  open: boolean;
  user: UserDetail;
  onClose: () => void;
  /** Refreshes the balance, history and list after a change. */
  onDone: () => void;
};

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${Math.abs(n) === 1 ? one : many}`;

export function GrantDialog({ open, user, onClose, onDone }: ActionDialogProps) {
  const trpc = useTRPC();
  const toast = useToast();
  const id = useId();
  const [credits, setCredits] = useState('');
  const [reason, setReason] = useState('');
  const [expires, setExpires] = useState('');
  const [priority, setPriority] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const grant = useMutation(
    trpc.admin.users.grant.mutationOptions({
      onSuccess: (r) => {
        toast.show(`Granted ${plural(r.transaction.creditsDelta, 'credit')} to ${user.userId}. Balance: ${formatCount(r.balance.currentBalance)}.`);
        onDone();
        onClose();
      },
      onError: (err) => setErrors(serverFieldErrors(err)),
    }),
  );
  // The preview shows a balance only for an amount the server would accept.
  const amount = validOrNull(creditsSchema, wholeNumber(credits));

  const { reset: resetGrant } = grant;
  useEffect(() => {
    if (open) {
      setCredits('');
      setReason('');
      setExpires('');
      setPriority('');
      setErrors({});
      resetGrant();
    }
  }, [open, resetGrant]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (grant.isPending) return;
    const expiresAt = expires ? new Date(expires) : null;
    if (expiresAt && Number.isNaN(expiresAt.getTime())) {
      setErrors({ expiresAt: 'Enter a valid date and time' });
      return;
    }
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      setErrors({ expiresAt: 'The expiry must be in the future' });
      return;
    }
    const result = validateForm(grantInputSchema, {
      userId: user.userId,
      credits: wholeNumber(credits),
      reason,
      expiresAt: expiresAt?.toISOString(),
      // Empty: the default, spent alongside the monthly allowance.
      priority: priority.trim() === '' ? undefined : wholeNumber(priority),
    });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    grant.mutate(result.data);
  };

  return (
    <Dialog open={open} title="Grant credits" onClose={onClose} width={440}>
      <form onSubmit={submit} noValidate>
        {formAlert(grant.error, errors) && (
          <div className="alert alert-error" role="alert">
            {formAlert(grant.error, errors)}
          </div>
        )}
        <p className="dialog-lead">
          Promotional credits for <strong className="mono">{user.userId}</strong>, kept across monthly resets until they expire. Credits are spent by priority (lower first), then the soonest expiry,
          then the oldest grant.
        </p>
        <div className="form-row">
          <Field id={`${id}-credits`} label="Credits" error={errors.credits} hint="1 to 10,000">
            <input id={`${id}-credits`} type="number" inputMode="numeric" min={1} max={10_000} step={1} data-autofocus value={credits} onChange={(e) => setCredits(e.target.value)} />
          </Field>
          <Field id={`${id}-expires`} label="Expires (optional)" error={errors.expiresAt} hint="Empty: never expires">
            <input id={`${id}-expires`} type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          </Field>
        </div>
        <Field id={`${id}-priority`} label="Priority (optional)" error={errors.priority} hint="0 to 1000, lower is spent first. Empty: 50, alongside the monthly allowance; paid packs are 100.">
          <input id={`${id}-priority`} type="number" inputMode="numeric" min={0} max={1000} step={1} placeholder="50" value={priority} onChange={(e) => setPriority(e.target.value)} />
        </Field>
        <ReasonField
          id={`${id}-reason`}
          value={reason}
          onChange={setReason}
          error={errors.reason}
          placeholder="e.g. goodwill after the outage on 12 May"
          hint="Required. Recorded in the ledger and the audit log."
        />
        <FormPreview testId="grant-preview">
          Balance {formatCount(user.currentBalance)} → <strong>{amount === null ? '…' : formatCount(user.currentBalance + amount)}</strong>
        </FormPreview>
        <FormActions onClose={onClose} busy={grant.isPending} label="Grant credits" busyLabel="Granting…" />
      </form>
    </Dialog>
  );
}

export function AdjustDialog({ open, user, onClose, onDone }: ActionDialogProps) {
  const trpc = useTRPC();
  const toast = useToast();
  const id = useId();
  const [delta, setDelta] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const adjust = useMutation(
    trpc.admin.users.adjust.mutationOptions({
      onSuccess: (r) => {
        const d = r.transaction.creditsDelta;
        toast.show(`Adjusted ${user.userId} by ${d > 0 ? '+' : '−'}${plural(Math.abs(d), 'credit')}. Balance: ${formatCount(r.balance.currentBalance)}.`);
        onDone();
        onClose();
      },
      onError: (err) => setErrors(serverFieldErrors(err)),
    }),
  );

  const { reset: resetAdjust } = adjust;
  useEffect(() => {
    if (open) {
      setDelta('');
      setReason('');
      setErrors({});
      resetAdjust();
    }
  }, [open, resetAdjust]);

  const n = wholeNumber(delta);
  // The preview shows a balance only for a change the server would accept: a valid delta that
  // leaves the balance at zero or above.
  const accepted = validOrNull(adjustInputSchema.shape.delta, n);
  const after = accepted === null ? null : user.currentBalance + accepted;
  const possible = accepted !== null && user.currentBalance + accepted >= 0;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (adjust.isPending) return;
    const result = validateForm(adjustInputSchema, { userId: user.userId, delta: n, reason });
    if (!result.ok) {
      setErrors({ ...result.errors, ...(Number.isNaN(n) ? { delta: 'Enter a whole number such as 5 or -3' } : {}) });
      return;
    }
    if (after !== null && after < 0) {
      setErrors({ delta: `The balance is ${formatCount(user.currentBalance)}: it cannot go below zero` });
      return;
    }
    setErrors({});
    adjust.mutate(result.data);
  };

  return (
    <Dialog open={open} title="Adjust balance" onClose={onClose} width={440}>
      <form onSubmit={submit} noValidate>
        {formAlert(adjust.error, errors) && (
          <div className="alert alert-error" role="alert">
            {formAlert(adjust.error, errors)}
          </div>
        )}
        <p className="dialog-lead">
          A correction of <strong className="mono">{user.userId}</strong>'s balance. Adding goes to this month's allowance; taking comes from the allowance first, then the bonus, never below zero.
        </p>
        <Field id={`${id}-delta`} label="Change (+/−)" error={errors.delta} hint="e.g. 5 to add, -3 to take away">
          <input id={`${id}-delta`} type="number" inputMode="numeric" step={1} data-autofocus value={delta} onChange={(e) => setDelta(e.target.value)} />
        </Field>
        <ReasonField id={`${id}-reason`} value={reason} onChange={setReason} error={errors.reason} placeholder="e.g. double charge on a failed upload" />
        <FormPreview testId="adjust-preview">
          Balance {formatCount(user.currentBalance)} {possible && <Delta value={accepted} />} →{' '}
          {after !== null && after < 0 ? <span className="delta-minus">cannot go below zero</span> : <strong>{possible ? formatCount(user.currentBalance + accepted) : '…'}</strong>}
        </FormPreview>
        <FormActions onClose={onClose} busy={adjust.isPending} label="Adjust balance" busyLabel="Adjusting…" />
      </form>
    </Dialog>
  );
}

export function TierDialog({ open, user, onClose, onDone }: ActionDialogProps) {
  const trpc = useTRPC();
  const toast = useToast();
  const id = useId();
  const [tier, setTier] = useState<Tier>(user.tier);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const allowances = useQuery({ ...trpc.admin.tiers.list.queryOptions(), enabled: open });
  const setTierMutation = useMutation(
    trpc.admin.users.setTier.mutationOptions({
      onSuccess: (b) => {
        toast.show(`${user.userId} is now on ${tierLabel(b.tier)}. Balance: ${formatCount(b.currentBalance)}.`);
        onDone();
        onClose();
      },
    }),
  );

  const { reset: resetSetTierMutation } = setTierMutation;
  useEffect(() => {
    if (open) {
      setTier(user.tier);
      setReason('');
      setErrors({});
      resetSetTierMutation();
    }
  }, [open, user.tier, resetSetTierMutation]);

  const target = allowances.data?.find((a) => a.tier === tier);
  const change = target && tier !== user.tier ? target.monthlyCredits - user.monthlyAllowance : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (setTierMutation.isPending) return;
    if (tier === user.tier) {
      setErrors({ tier: `${user.userId} is already on ${tierLabel(tier)}` });
      return;
    }
    const result = validateForm(setTierInputSchema, { userId: user.userId, tier, reason });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    setTierMutation.mutate(result.data);
  };

  return (
    <Dialog open={open} title="Change tier" onClose={onClose} width={440}>
      <form onSubmit={submit} noValidate>
        {setTierMutation.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(setTierMutation.error)}
          </div>
        )}
        <p className="dialog-lead">
          The new allowance applies at once, not prorated: the allowance left becomes the new tier’s allowance minus what was already spent this month (never below zero). Bonus credits are untouched;
          the next monthly reset gives the full allowance.
        </p>
        <Field id={`${id}-tier`} label="Tier" error={errors.tier}>
          <select id={`${id}-tier`} data-autofocus value={tier} onChange={(e) => setTier(e.target.value as Tier)}>
            {tiers.map((t) => {
              const a = allowances.data?.find((x) => x.tier === t);
              return (
                <option key={t} value={t}>
                  {tierLabel(t)}
                  {a ? ` — ${formatCount(a.monthlyCredits)} credits/month${a.poolAccess ? ', pool access' : ''}` : ''}
                  {t === user.tier ? ' (current)' : ''}
                </option>
              );
            })}
          </select>
        </Field>
        <ReasonField id={`${id}-reason`} value={reason} onChange={setReason} error={errors.reason} placeholder="e.g. upgraded by support, ticket 4411" />
        <FormPreview>
          {change === null ? (
            <>
              Allowance {formatCount(user.monthlyAllowance)} · balance {formatCount(user.currentBalance)}
            </>
          ) : (
            <>
              Allowance {formatCount(user.monthlyAllowance)} → <strong>{formatCount(target!.monthlyCredits)}</strong> · balance {formatCount(user.currentBalance)} →{' '}
              <strong>{formatCount(Math.max(user.bonusBalance, user.currentBalance + change))}</strong>
            </>
          )}
        </FormPreview>
        <FormActions onClose={onClose} busy={setTierMutation.isPending} label="Change tier" busyLabel="Changing…" />
      </form>
    </Dialog>
  );
}
