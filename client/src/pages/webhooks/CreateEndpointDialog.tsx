import { useMutation } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { createWebhookInputSchema, webhookEventTypes, type WebhookEndpointView, type WebhookEventType } from '../../../../shared/webhooks';
import { Dialog } from '../../components/Dialog';
import { ChoiceListField, FormActions } from '../../components/FormField';
import { errorMessage } from '../../lib/errors';
import { validate, type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

export const eventDescriptions: Record<WebhookEventType, string> = {
  'credits.low': "A user's balance fell below 20% of their monthly allowance (once a month)",
  'credits.depleted': "A user's balance reached 0",
  'credits.reset': "A user's monthly allowance was given again",
  'grant.expired': 'A bonus grant expired',
  'enhancement.completed': 'An enhancement was served by a provider',
  'enhancement.degraded': 'An enhancement fell back to the degraded result',
};

/** Registers an endpoint; the signing secret comes back once, to the caller. */
export function CreateEndpointDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (endpoint: WebhookEndpointView, secret: string) => void }) {
  const trpc = useTRPC();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<WebhookEventType[]>([]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation(trpc.admin.webhooks.create.mutationOptions({ onSuccess: (r) => onCreated(r.endpoint, r.secret) }));

  const { reset: resetCreate } = create;
  useEffect(() => {
    if (open) {
      setUrl('');
      setEvents([]);
      setErrors({});
      resetCreate();
    }
  }, [open, resetCreate]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (create.isPending) return;
    const result = validate(createWebhookInputSchema, { url, events });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    create.mutate(result.data);
  };

  return (
    <Dialog open={open} title="Register webhook endpoint" onClose={onClose} width={520}>
      <form onSubmit={submit} noValidate>
        {create.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(create.error)}
          </div>
        )}
        <div className="field">
          <label htmlFor="webhook-url">URL</label>
          <input
            id="webhook-url"
            data-autofocus
            value={url}
            placeholder="https://app.example.com/creditdesk/webhooks"
            onChange={(e) => setUrl(e.target.value)}
            aria-invalid={!!errors.url}
            aria-describedby="webhook-url-hint"
          />
          <div className={errors.url ? 'field-error' : 'field-hint'} id="webhook-url-hint">
            {errors.url ?? 'Receives a signed POST per event (Standard Webhooks).'}
          </div>
        </div>
        <ChoiceListField id="webhook-events" legend="Events" name="events" options={webhookEventTypes} descriptions={eventDescriptions} value={events} onChange={setEvents} error={errors.events} />
        <FormActions onClose={onClose} busy={create.isPending} label="Register endpoint" />
      </form>
    </Dialog>
  );
}
