import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { z } from 'zod';
import { refillInputSchema, type PoolView, type purchaseRequestSchema } from '../../../../shared/pools';
import { estimateUsd, formatCount, formatUsd, microsToDecimal, parseMicros } from '../../components/Amount';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, FormPreview, validateForm, wholeNumber } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { validOrNull, type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { RequestStatusBadge } from './badges';

type PurchaseRequest = z.infer<typeof purchaseRequestSchema>;

const DEFAULT_AMOUNT = 500;

/** Why this refill needs a second look, or null: above the credits or the dollars set in Settings. */
function overThreshold(credits: number, costMicros: bigint | null, limits: { refillConfirmCredits: number; refillConfirmUsd: string } | undefined) {
  if (!limits) return null;
  if (credits > limits.refillConfirmCredits) return `more than ${formatCount(limits.refillConfirmCredits)} credits`;
  const usdLimit = parseMicros(limits.refillConfirmUsd);
  if (costMicros !== null && usdLimit !== null && costMicros > usdLimit) return `more than ${formatUsd(limits.refillConfirmUsd)}`;
  return null;
}

/**
 * A manual refill. Within the month's budget the click is the approval (a manual pool is credited
 * at once, an http pool buys through its endpoint); over budget the request waits for approval.
 * The dialog stays open on the outcome so the admin sees which of these happened.
 */
export function RefillDialog({ pool, onClose }: { pool: PoolView | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [amount, setAmount] = useState(String(DEFAULT_AMOUNT));
  /** The refill waiting for the admin's "yes" because it is over the confirmation threshold. */
  const [confirming, setConfirming] = useState<z.infer<typeof refillInputSchema> | null>(null);
  const settings = useQuery(trpc.admin.platformSettings.get.queryOptions(undefined, { enabled: pool !== null }));
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [outcome, setOutcome] = useState<PurchaseRequest | null>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (outcome) closeRef.current?.focus();
  }, [outcome]);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);

  const refill = useMutation(
    trpc.admin.pools.refill.mutationOptions({
      onSuccess: (r) => {
        setOutcome(r);
        toast.show(
          r.status === 'completed'
            ? `Refilled ${r.provider} with ${formatCount(r.amountRequested)} credits.`
            : r.status === 'pending_manual_approval'
              ? `Refill request #${r.id} for ${r.provider} is waiting for approval.`
              : `Refill request #${r.id} for ${r.provider}: ${r.status}.`,
          r.status === 'failed' ? 'error' : r.status === 'completed' ? 'success' : 'info',
        );
        void queryClient.invalidateQueries(trpc.admin.pools.pathFilter());
        void queryClient.invalidateQueries(trpc.admin.purchaseRequests.pathFilter());
        void queryClient.invalidateQueries(trpc.admin.platformSettings.pathFilter());
      },
    }),
  );

  const { reset: resetRefill } = refill;
  useEffect(() => {
    if (pool) {
      setAmount(String(DEFAULT_AMOUNT));
      setConfirming(null);
      setReason('');
      setErrors({});
      setOutcome(null);
      resetRefill();
    }
  }, [pool, resetRefill]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!pool || refill.isPending) return;
    const result = validateForm(refillInputSchema, { provider: pool.provider, amount: wholeNumber(amount), reason: reason.trim() || undefined });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    const cost = parseMicros(pool.costPerCredit);
    if (!confirming && overThreshold(result.data.amount, cost === null ? null : cost * BigInt(result.data.amount), settings.data)) {
      setConfirming(result.data);
      return;
    }
    refill.mutate(result.data);
  };

  // Cost and preview only for an amount the server would accept.
  const credits = validOrNull(refillInputSchema.shape.amount, wholeNumber(amount));
  const estimate = pool && credits !== null ? estimateUsd(credits, pool.costPerCredit) : null;
  const costOf = (credits: number) => {
    const cost = pool ? parseMicros(pool.costPerCredit) : null;
    return cost === null ? null : microsToDecimal(cost * BigInt(credits), 2).replaceAll(',', '');
  };

  return (
    <Dialog open={pool !== null} title={pool ? `Refill ${pool.provider}` : 'Refill'} onClose={onClose} width={440}>
      {pool && outcome ? (
        <div data-testid="refill-result">
          <div className="outcome">
            <RequestStatusBadge status={outcome.status} />
            <span className="outcome-title">
              Request #{outcome.id} · {formatCount(outcome.amountRequested)} credits · {formatUsd(outcome.estimatedCost)}
            </span>
          </div>
          <p className="outcome-text">
            {outcome.status === 'completed' && <>The pool was credited with {formatCount(outcome.amountRequested)} credits.</>}
            {outcome.status === 'pending_manual_approval' && (
              <>
                It waits for an admin's approval under <strong>Purchase requests</strong>
                {outcome.note ? <>: {outcome.note}.</> : '.'}
              </>
            )}
            {outcome.status === 'approved' && <>Approved; the credits are being bought through the billing endpoint.</>}
            {outcome.status === 'failed' && <>The purchase failed{outcome.errorMessage ? <>: {outcome.errorMessage}</> : '.'}</>}
            {outcome.status === 'rejected' && <>The request was rejected.</>}
          </p>
          <div className="form-actions">
            <button type="button" className="button button-primary" onClick={onClose} ref={closeRef}>
              Close
            </button>
          </div>
        </div>
      ) : pool && confirming ? (
        <form onSubmit={submit} noValidate data-testid="refill-confirm">
          {refill.isError && (
            <div className="alert alert-error" role="alert">
              {errorMessage(refill.error)}
            </div>
          )}
          <p className="dialog-lead">
            Refill <strong>{formatCount(confirming.amount)} credits</strong> for <strong>{formatUsd(costOf(confirming.amount))}</strong>? That is{' '}
            {overThreshold(confirming.amount, parseMicros(costOf(confirming.amount)), settings.data)}, the point above which a refill is confirmed (set in Settings).
          </p>
          <div className="form-actions">
            <button type="button" className="button" onClick={() => setConfirming(null)}>
              Change amount
            </button>
            <button type="submit" className="button button-primary" disabled={refill.isPending} ref={confirmRef}>
              {refill.isPending ? 'Refilling…' : `Buy ${formatCount(confirming.amount)} credits`}
            </button>
          </div>
        </form>
      ) : (
        pool && (
          <form onSubmit={submit} noValidate>
            {refill.isError && (
              <div className="alert alert-error" role="alert">
                {errorMessage(refill.error)}
              </div>
            )}
            <p className="dialog-lead">
              {pool.billingMode === 'manual'
                ? 'Record credits bought from the provider. Within the month\u2019s budget they are added at once; over it, the request waits for approval.'
                : 'Buy credits through the billing endpoint. Over the month\u2019s budget the request waits for approval.'}
            </p>
            <Field id={`${id}-amount`} label="Amount (credits)" error={errors.amount} hint={`${formatUsd(pool.costPerCredit)} per credit`}>
              {/* Selected on focus: typing replaces the suggestion instead of appending to it (500 then "10" is 10, not 50,010). */}
              <input id={`${id}-amount`} type="number" min={1} step={1} data-autofocus value={amount} onFocus={(e) => e.target.select()} onChange={(e) => setAmount(e.target.value)} />
            </Field>
            <div className="refill-cost" data-testid="refill-cost">
              Cost <strong>{estimate ?? '—'}</strong>
            </div>
            <Field id={`${id}-reason`} label="Reason (optional)" error={errors.reason}>
              <input id={`${id}-reason`} autoComplete="off" maxLength={500} placeholder="e.g. invoice 2025-114" value={reason} onChange={(e) => setReason(e.target.value)} />
            </Field>
            <FormPreview>
              Available {formatCount(pool.availableBalance)} → <strong>{credits === null ? '…' : formatCount(pool.availableBalance + credits)}</strong> once completed
            </FormPreview>
            <FormActions onClose={onClose} busy={refill.isPending} label="Refill" busyLabel="Refilling…" />
          </form>
        )
      )}
    </Dialog>
  );
}
