import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useEffectEvent, useId, useState, type FormEvent } from 'react';
import { providerInputSchema, providerKindSchema, type ProviderView } from '../../../../shared/providers';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, validateForm, wholeNumber } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

type Kind = ProviderView['kind'];

type Form = {
  name: string;
  kind: Kind;
  baseUrl: string;
  model: string;
  costPerRequest: string;
  rateLimitPerMinute: string;
  priority: string;
  timeoutMs: string;
  isActive: boolean;
  healthCheckUrl: string;
  /** A new key to store; empty keeps the current one. */
  apiKey: string;
  removeApiKey: boolean;
};

export const kindLabels: Record<Kind, string> = {
  nanobanana: 'NanoBanana',
  fal: 'fal.ai',
  kie: 'Kie.ai',
  google: 'Google Gemini',
  local: 'Local (sharp, on this server)',
};

/** Where each kind's API usually lives, and the model it uses when none is set. */
const kindDefaults: Record<Kind, { baseUrl: string; model: string | null; cost: string }> = {
  nanobanana: { baseUrl: 'https://api.nanobananaapi.ai', model: null, cost: '0.02' },
  fal: { baseUrl: 'https://queue.fal.run', model: 'fal-ai/nano-banana/edit', cost: '0.039' },
  kie: { baseUrl: 'https://api.kie.ai', model: 'google/nano-banana-edit', cost: '0.02' },
  google: { baseUrl: 'https://generativelanguage.googleapis.com', model: 'gemini-2.5-flash-image', cost: '0.039' },
  local: { baseUrl: 'http://localhost', model: null, cost: '0' },
};

const blank = (priority: number): Form => ({
  name: '',
  kind: 'fal',
  baseUrl: kindDefaults.fal.baseUrl,
  model: '',
  costPerRequest: kindDefaults.fal.cost,
  rateLimitPerMinute: '60',
  priority: String(priority),
  timeoutMs: '30000',
  isActive: true,
  healthCheckUrl: '',
  apiKey: '',
  removeApiKey: false,
});

/** "0.039000" → "0.039": the database keeps six decimals, a person types what matters. */
const trimDecimal = (v: string) => (v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v);

const fromProvider = (p: ProviderView): Form => ({
  name: p.name,
  kind: p.kind,
  baseUrl: p.baseUrl,
  model: p.model ?? '',
  costPerRequest: trimDecimal(p.costPerRequest),
  rateLimitPerMinute: String(p.rateLimitPerMinute),
  priority: String(p.priority),
  timeoutMs: String(p.timeoutMs),
  isActive: p.isActive,
  healthCheckUrl: p.healthCheckUrl ?? '',
  apiKey: '',
  removeApiKey: false,
});

const orNull = (s: string) => (s.trim() === '' ? null : s.trim());

/**
 * Create a provider (provider = null) or edit one: every field of the shared providerInputSchema.
 * The API key is write-only: the dialog says whether one is stored and takes a replacement, never shows it.
 */
export function ProviderDialog({
  open,
  provider,
  nextPriority,
  onClose,
  onArchive,
}: {
  open: boolean;
  provider: ProviderView | null;
  /** The priority a new provider gets: after the last one. */
  nextPriority: number;
  onClose: () => void;
  /** Offered while editing: archiving lives here rather than in the row, which has no room left. */
  onArchive?: (provider: ProviderView) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const editing = provider !== null;
  const [form, setForm] = useState<Form>(() => blank(nextPriority));
  const [errors, setErrors] = useState<FieldErrors>({});

  const onSaved = (_r: unknown, input: { name: string }) => {
    toast.show(editing ? `Provider ${input.name} saved.` : `Provider ${input.name} created.`);
    void queryClient.invalidateQueries(trpc.admin.providers.pathFilter());
    onClose();
  };
  const create = useMutation(trpc.admin.providers.create.mutationOptions({ onSuccess: onSaved }));
  const update = useMutation(trpc.admin.providers.update.mutationOptions({ onSuccess: onSaved }));
  const save = editing ? update : create;

  // nextPriority is read when the dialog opens, not followed while it is open.
  const blankForm = useEffectEvent(() => blank(nextPriority));
  const { reset: resetCreate } = create;
  const { reset: resetUpdate } = update;
  useEffect(() => {
    if (open) {
      setForm(provider ? fromProvider(provider) : blankForm());
      setErrors({});
      resetCreate();
      resetUpdate();
    }
  }, [open, provider, resetCreate, resetUpdate]);

  const set =
    <K extends keyof Form>(key: K) =>
    (value: Form[K]) =>
      setForm((f) => ({ ...f, [key]: value }));
  const text = (key: keyof Form) => (e: { target: { value: string } }) => set(key)(e.target.value);

  /** A new provider gets the kind's usual base URL and cost, unless the admin already typed their own. */
  const setKind = (kind: Kind) =>
    setForm((f) => {
      if (editing) return { ...f, kind };
      const before = kindDefaults[f.kind];
      const after = kindDefaults[kind];
      return {
        ...f,
        kind,
        baseUrl: f.baseUrl === '' || f.baseUrl === before.baseUrl ? after.baseUrl : f.baseUrl,
        costPerRequest: f.costPerRequest === '' || f.costPerRequest === before.cost ? after.cost : f.costPerRequest,
      };
    });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (save.isPending) return;
    const result = validateForm(providerInputSchema, {
      name: form.name,
      kind: form.kind,
      baseUrl: form.baseUrl,
      apiKey: form.removeApiKey ? null : form.apiKey === '' ? undefined : form.apiKey,
      model: orNull(form.model),
      costPerRequest: form.costPerRequest,
      rateLimitPerMinute: wholeNumber(form.rateLimitPerMinute),
      priority: wholeNumber(form.priority),
      timeoutMs: wholeNumber(form.timeoutMs),
      isActive: form.isActive,
      healthCheckUrl: orNull(form.healthCheckUrl),
    });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    save.mutate(result.data);
  };

  const local = form.kind === 'local';
  const keySet = editing && provider.apiKeySet;
  const defaults = kindDefaults[form.kind];

  return (
    <Dialog open={open} title={editing ? `Edit provider ${provider.name}` : 'Add provider'} onClose={onClose} width={620}>
      <form onSubmit={submit} noValidate>
        {save.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(save.error)}
          </div>
        )}
        <div className="form-grid">
          <Field id={`${id}-name`} label="Name" error={errors.name} hint={editing ? 'A provider keeps its name.' : 'Lower-case, e.g. fal; its pool has the same name'}>
            <input id={`${id}-name`} data-autofocus={editing ? undefined : true} readOnly={editing} autoComplete="off" spellCheck={false} value={form.name} onChange={text('name')} />
          </Field>
          <Field id={`${id}-kind`} label="Kind" error={errors.kind} hint={local ? 'Enhances on this server with sharp: free, no key' : 'Which API the adapter speaks'}>
            <select id={`${id}-kind`} data-autofocus={editing ? true : undefined} value={form.kind} onChange={(e) => setKind(e.target.value as Kind)}>
              {providerKindSchema.options.map((k) => (
                <option key={k} value={k}>
                  {kindLabels[k]}
                </option>
              ))}
            </select>
          </Field>
          <Field id={`${id}-url`} label="Base URL" error={errors.baseUrl} hint={local ? 'Not called for local; any http URL, e.g. http://localhost' : `e.g. ${defaults.baseUrl}`}>
            <input id={`${id}-url`} type="url" autoComplete="off" spellCheck={false} placeholder={defaults.baseUrl} value={form.baseUrl} onChange={text('baseUrl')} />
          </Field>
          <Field id={`${id}-model`} label="Model (optional)" error={errors.model} hint={defaults.model ? `Empty: ${defaults.model}` : 'Empty: the adapter default'}>
            <input id={`${id}-model`} autoComplete="off" spellCheck={false} disabled={local} value={form.model} onChange={text('model')} />
          </Field>
        </div>

        <fieldset className="form-section">
          <legend>Routing and limits</legend>
          <div className="form-grid form-grid-4">
            <Field id={`${id}-priority`} label="Priority" error={errors.priority} hint="Lower is tried first">
              <input id={`${id}-priority`} type="number" min={0} max={10_000} step={1} value={form.priority} onChange={text('priority')} />
            </Field>
            <Field id={`${id}-cost`} label="Cost per request (USD)" error={errors.costPerRequest} hint={local ? 'Local costs nothing' : 'e.g. 0.039'}>
              <input id={`${id}-cost`} inputMode="decimal" autoComplete="off" value={form.costPerRequest} onChange={text('costPerRequest')} />
            </Field>
            <Field id={`${id}-rate`} label="Rate limit / min" error={errors.rateLimitPerMinute} hint="Calls per minute">
              <input id={`${id}-rate`} type="number" min={1} step={1} value={form.rateLimitPerMinute} onChange={text('rateLimitPerMinute')} />
            </Field>
            <Field id={`${id}-timeout`} label="Timeout (ms)" error={errors.timeoutMs} hint="100 to 600,000">
              <input id={`${id}-timeout`} type="number" min={100} max={600_000} step={100} value={form.timeoutMs} onChange={text('timeoutMs')} />
            </Field>
          </div>
          <div className="form-grid">
            <Field id={`${id}-health`} label="Health check URL (optional)" error={errors.healthCheckUrl} hint="Empty: the base URL is probed">
              <input
                id={`${id}-health`}
                type="url"
                autoComplete="off"
                spellCheck={false}
                disabled={local}
                placeholder="https://status.example.com/health"
                value={form.healthCheckUrl}
                onChange={text('healthCheckUrl')}
              />
            </Field>
            <div className="field field-check">
              <label className="checkbox-inline">
                <input type="checkbox" checked={form.isActive} onChange={(e) => set('isActive')(e.target.checked)} />
                Active: requests may be routed to it
              </label>
            </div>
          </div>
        </fieldset>

        <fieldset className="form-section">
          <legend>API key</legend>
          <div className="key-box">
            <div className="key-box-head">
              {keySet && !form.removeApiKey ? (
                <span className="badge badge-ok" data-testid="provider-key-status">
                  Set
                </span>
              ) : (
                <span className="badge badge-muted" data-testid="provider-key-status">
                  Not set
                </span>
              )}
              <span className="muted">write-only: stored encrypted, never shown again</span>
            </div>
            <div className="form-grid">
              <Field
                id={`${id}-key`}
                label={keySet ? 'Replace key' : 'API key'}
                error={errors.apiKey}
                hint={local ? 'The local provider needs no key.' : keySet ? 'Leave empty to keep the current key.' : 'Sent to the provider with each call.'}
              >
                <input
                  id={`${id}-key`}
                  type="password"
                  autoComplete="new-password"
                  spellCheck={false}
                  placeholder={keySet ? 'set — leave empty to keep' : 'not set'}
                  disabled={form.removeApiKey}
                  value={form.apiKey}
                  onChange={text('apiKey')}
                />
              </Field>
              {keySet && (
                <label className="checkbox-inline key-remove">
                  <input type="checkbox" checked={form.removeApiKey} onChange={(e) => setForm((f) => ({ ...f, removeApiKey: e.target.checked, apiKey: '' }))} />
                  Remove key
                </label>
              )}
            </div>
          </div>
        </fieldset>
        {editing && onArchive && (
          <div className="provider-archive">
            <button type="button" className="button button-small button-danger-quiet" onClick={() => onArchive(provider)}>
              Archive provider…
            </button>
            <span className="field-hint">Never tried by the gateway again, its history kept; it can be restored.</span>
          </div>
        )}
        <FormActions onClose={onClose} busy={save.isPending} label={editing ? 'Save provider' : 'Add provider'} />
      </form>
    </Dialog>
  );
}
