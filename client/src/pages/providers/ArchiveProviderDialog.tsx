import type { ProviderView } from '../../../../shared/providers';
import { ReasonDialog } from '../../components/ReasonDialog';
import { errorMessage } from '../../lib/errors';

/** The archive or restore mutation the dialog runs (both take the provider's name and a reason). */
type ArchiveAction = {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  mutate: (input: { name: string; reason: string }) => void;
};

/** Archive (or restore) a provider, with the reason the audit log records. */
export function ArchiveProviderDialog({ archiving, action, onClose }: { archiving: { provider: ProviderView; restore: boolean } | null; action: ArchiveAction; onClose: () => void }) {
  return (
    <ReasonDialog
      open={archiving !== null}
      title={`${archiving?.restore ? 'Restore' : 'Archive'} ${archiving?.provider.name ?? ''}`}
      message={
        archiving?.restore ? (
          <p>
            Restore <strong>{archiving.provider.name}</strong>? It comes back disabled and last in the fallback order; enable it when it should serve.
          </p>
        ) : (
          <p>
            Archive <strong>{archiving?.provider.name}</strong>? The gateway stops trying it and it leaves the fallback order; its calls, ledger entries and pool keep their history. You can restore it
            later.
          </p>
        )
      }
      confirmLabel={archiving?.restore ? 'Restore provider' : 'Archive provider'}
      busyLabel={archiving?.restore ? 'Restoring…' : 'Archiving…'}
      danger={!archiving?.restore}
      placeholder={archiving?.restore ? 'e.g. contract renewed' : 'e.g. contract ended'}
      busy={action.isPending}
      error={action.isError ? errorMessage(action.error) : null}
      onConfirm={(reason) => archiving && action.mutate({ name: archiving.provider.name, reason })}
      onClose={onClose}
    />
  );
}
