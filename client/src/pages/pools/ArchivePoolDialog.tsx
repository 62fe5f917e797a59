import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { archivePoolInputSchema, restorePoolInputSchema, type PoolView } from '../../../../shared/pools';
import { estimateUsd, formatCount } from '../../components/Amount';
import { Dialog } from '../../components/Dialog';
import { FormActions, ReasonField, validateForm } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

type Props = { pool: PoolView | null; restore: boolean; onClose: () => void };

/**
 * Archive (or restore) a pool, with a reason. A pool that still holds credits asks for the admin's
 * explicit choice to archive it with them; the server refuses while enhancements are in flight on it.
 */
export function ArchivePoolDialog({ pool, restore, onClose }: Props) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [reason, setReason] = useState('');
  const [withBalance, setWithBalance] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const done = (p: PoolView) => {
    toast.show(restore ? `Pool ${p.provider} restored, still suspended: resume it to serve requests.` : `Pool ${p.provider} archived: nothing draws or refills it.`);
    void queryClient.invalidateQueries(trpc.admin.pools.pathFilter());
    onClose();
  };
  const archive = useMutation(trpc.admin.pools.archive.mutationOptions({ onSuccess: done }));
  const restoreMutation = useMutation(trpc.admin.pools.restore.mutationOptions({ onSuccess: done }));
  const action = restore ? restoreMutation : archive;
  const resetArchive = archive.reset;
  const resetRestore = restoreMutation.reset;

  useEffect(() => {
    if (pool) {
      setReason('');
      setWithBalance(false);
      setErrors({});
      resetArchive();
      resetRestore();
    }
  }, [pool, resetArchive, resetRestore]);

  const balance = pool?.availableBalance ?? 0;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!pool || action.isPending) return;
    if (restore) {
      const result = validateForm(restorePoolInputSchema, { provider: pool.provider, reason });
      if (!result.ok) return setErrors(result.errors);
      setErrors({});
      return restoreMutation.mutate(result.data);
    }
    const result = validateForm(archivePoolInputSchema, { provider: pool.provider, reason, archiveWithBalance: withBalance });
    if (!result.ok) return setErrors(result.errors);
    if (balance > 0 && !withBalance) return setErrors({ withBalance: 'Tick this to archive a pool that still holds credits' });
    setErrors({});
    archive.mutate(result.data);
  };

  return (
    <Dialog open={pool !== null} title={`${restore ? 'Restore' : 'Archive'} ${pool?.provider ?? ''}`} onClose={onClose} width={460}>
      <form onSubmit={submit} noValidate>
        {action.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(action.error)}
          </div>
        )}
        {restore ? (
          <p className="dialog-lead">
            Restore the <strong>{pool?.provider}</strong> pool? It comes back suspended: resume it when it should pay for requests again.
          </p>
        ) : (
          <p className="dialog-lead">
            Archive the <strong>{pool?.provider}</strong> pool? It is suspended and hidden: nothing draws or refills it, and its ledger and refills keep their history. You can restore it later.
          </p>
        )}
        {!restore && balance > 0 && (
          <div className="field">
            <label className="checkbox">
              <input type="checkbox" checked={withBalance} onChange={(e) => setWithBalance(e.target.checked)} aria-invalid={!!errors.withBalance} aria-describedby={`${id}-balance-hint`} />
              Archive it with its balance of {formatCount(balance)} credits
              {pool && estimateUsd(balance, pool.costPerCredit) ? ` (${estimateUsd(balance, pool.costPerCredit)})` : ''}
            </label>
            <div className={errors.withBalance ? 'field-error' : 'field-hint'} id={`${id}-balance-hint`}>
              {errors.withBalance ?? 'The credits stay on its books but nothing will draw them until it is restored and resumed.'}
            </div>
          </div>
        )}
        <ReasonField id={`${id}-reason`} value={reason} onChange={setReason} error={errors.reason} placeholder={restore ? 'e.g. contract renewed' : 'e.g. contract ended'} />
        <FormActions onClose={onClose} busy={action.isPending} label={restore ? 'Restore pool' : 'Archive pool'} busyLabel={restore ? 'Restoring…' : 'Archiving…'} danger={!restore} />
      </form>
    </Dialog>
  );
}
