import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { ApiKeyView } from '../../../../shared/auth';
import { Dialog } from '../../components/Dialog';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { useTRPC } from '../../trpc';
import { FormActions } from '../../components/FormField';

/** How long the replaced secret keeps working: long enough to redeploy the app with the new one. */
const GRACE_CHOICES = [
  { minutes: 0, label: 'Stop at once' },
  { minutes: 15, label: '15 minutes' },
  { minutes: 60, label: '1 hour' },
  { minutes: 24 * 60, label: '1 day' },
  { minutes: 7 * 24 * 60, label: '7 days' },
  { minutes: 30 * 24 * 60, label: '30 days' },
];

type Rotated = { apiKey: ApiKeyView; secret: string };

export function RotateApiKeyDialog({ apiKey, onClose, onRotated }: { apiKey: ApiKeyView; onClose: () => void; onRotated: (r: Rotated, note: string) => void }) {
  const trpc = useTRPC();
  const [graceMinutes, setGrace] = useState(60);
  const rotate = useMutation(
    trpc.admin.apiKeys.rotate.mutationOptions({
      onSuccess: (r) =>
        onRotated(
          r,
          r.apiKey.previousExpiresAt ? `The old secret (${r.apiKey.previousPrefix}…) keeps working until ${formatDateTime(r.apiKey.previousExpiresAt)}.` : 'The old secret stopped working now.',
        ),
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!rotate.isPending) rotate.mutate({ id: apiKey.id, graceMinutes });
  };
  return (
    <Dialog open title="Rotate API key" onClose={onClose} width={460}>
      <form onSubmit={submit} noValidate>
        <p>
          Give <strong>{apiKey.name}</strong> (<code>{apiKey.prefix}…</code>) a new secret. The new one is shown once; deploy it, then the old one stops working.
        </p>
        {rotate.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(rotate.error)}
          </div>
        )}
        <div className="field">
          <label htmlFor="rotate-grace">Old secret keeps working for</label>
          <select id="rotate-grace" data-autofocus value={graceMinutes} onChange={(e) => setGrace(Number(e.target.value))}>
            {GRACE_CHOICES.map((g) => (
              <option key={g.minutes} value={g.minutes}>
                {g.label}
              </option>
            ))}
          </select>
          <div className="field-hint">A secret replaced earlier and still in its grace period stops at once.</div>
        </div>
        <FormActions onClose={onClose} busy={rotate.isPending} label="Rotate key" busyLabel="Rotating…" />
      </form>
    </Dialog>
  );
}
