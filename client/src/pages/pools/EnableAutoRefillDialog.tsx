import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { PoolView } from '../../../../shared/pools';
import { ReasonDialog } from '../../components/ReasonDialog';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { useTRPC } from '../../trpc';

/** Turns a pool's stopped auto-refill back on (audited, with a reason); its open refill is retried at once. */
export function EnableAutoRefillDialog({ pool, onClose }: { pool: PoolView | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const enable = useMutation(
    trpc.admin.pools.enableAutoRefill.mutationOptions({
      onSuccess: (p) => {
        onClose();
        toast.show(`Auto-refill of ${p.provider} re-enabled: an open refill is retried now.`);
        void queryClient.invalidateQueries(trpc.admin.pools.pathFilter());
        void queryClient.invalidateQueries(trpc.admin.purchaseRequests.pathFilter());
      },
    }),
  );
  return (
    <ReasonDialog
      open={pool !== null}
      title={`Re-enable auto-refill of ${pool?.provider ?? ''}`}
      message={
        <>
          <p>
            Auto-refill of the <strong>{pool?.provider}</strong> pool stopped after {pool?.refillFailures} failed refills in a row. Re-enable it once its billing works again; a purchase whose outcome
            is unknown is checked with the provider first, never bought twice.
          </p>
          {pool?.lastRefillError && (
            <p>
              Last error: <code>{pool.lastRefillError}</code>
            </p>
          )}
        </>
      }
      confirmLabel="Re-enable auto-refill"
      busyLabel="Re-enabling…"
      placeholder="e.g. billing API key rotated"
      busy={enable.isPending}
      error={enable.isError ? errorMessage(enable.error) : null}
      onConfirm={(reason) => pool && enable.mutate({ provider: pool.provider, reason })}
      onClose={() => {
        enable.reset();
        onClose();
      }}
    />
  );
}
