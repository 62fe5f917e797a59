import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { poolInputSchema, type PoolView } from '../../../../shared/pools';
import { estimateUsd } from '../../components/Amount';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, validateForm, wholeNumber } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

type Form = {
  provider: string;
  costPerCredit: string;
  autoRefillThreshold: string;
  autoRefillThresholdPercent: string;
  autoRefillAmount: string;
  refillMode: 'fixed' | 'top_up';
  refillTargetBalance: string;
  emergencyReserve: string;
  billingMode: 'manual' | 'http';
  billingUrl: string;
  /** A new key to store; empty keeps the current one. */
  billingApiKey: string;
  removeBillingApiKey: boolean;
};

const blank: Form = {
  provider: '',
  costPerCredit: '',
  autoRefillThreshold: '100',
  autoRefillThresholdPercent: '',
  autoRefillAmount: '1000',
  refillMode: 'fixed',
  refillTargetBalance: '',
  emergencyReserve: '0',
  billingMode: 'manual',
  billingUrl: '',
  billingApiKey: '',
  removeBillingApiKey: false,
};

const fromPool = (p: PoolView): Form => ({
  provider: p.provider,
  costPerCredit: trimDecimal(p.costPerCredit),
  autoRefillThreshold: String(p.autoRefillThreshold),
  autoRefillThresholdPercent: p.autoRefillThresholdPercent === null ? '' : String(p.autoRefillThresholdPercent),
  autoRefillAmount: String(p.autoRefillAmount),
  refillMode: p.refillMode,
  refillTargetBalance: p.refillTargetBalance === null ? '' : String(p.refillTargetBalance),
  emergencyReserve: String(p.emergencyReserve),
  billingMode: p.billingMode,
  billingUrl: p.billingUrl ?? '',
  billingApiKey: '',
  removeBillingApiKey: false,
});

/** "0.050000" → "0.05": the database keeps six decimals, a person types what matters. */
const trimDecimal = (v: string) => (v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v);

const optionalWhole = (text: string) => (text.trim() === '' ? null : Number(text.trim()));

/**
 * Create a pool (pool = null) or edit one. Every field of the shared poolInputSchema; the billing API
 * key is write-only: the dialog says whether one is stored and takes a replacement, never shows it.
 */
export function PoolDialog({ open, pool, onClose }: { open: boolean; pool: PoolView | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const editing = pool !== null;
  const [form, setForm] = useState<Form>(blank);
  const [errors, setErrors] = useState<FieldErrors>({});
  const providers = useQuery(trpc.admin.providers.list.queryOptions(undefined, { enabled: open && !editing }));
  const pools = useQuery(trpc.admin.pools.list.queryOptions({ includeArchived: true }, { enabled: open && !editing }));
  // The local provider costs nothing and draws no pool, so it is never offered.
  const choices = (providers.data ?? []).filter((p) => p.kind !== 'local' && !(pools.data ?? []).some((pool) => pool.provider === p.name));

  const onSaved = (p: PoolView) => {
    toast.show(editing ? `Pool ${p.provider} saved.` : `Pool ${p.provider} created. It is empty until its first refill.`);
    void queryClient.invalidateQueries(trpc.admin.pools.pathFilter());
    onClose();
  };
  const create = useMutation(trpc.admin.pools.create.mutationOptions({ onSuccess: onSaved }));
  const update = useMutation(trpc.admin.pools.update.mutationOptions({ onSuccess: onSaved }));
  const save = editing ? update : create;

  const { reset: resetCreate } = create;
  const { reset: resetUpdate } = update;
  useEffect(() => {
    if (open) {
      setForm(pool ? fromPool(pool) : blank);
      setErrors({});
      resetCreate();
      resetUpdate();
    }
  }, [open, pool, resetCreate, resetUpdate]);

  const set =
    <K extends keyof Form>(key: K) =>
    (value: Form[K]) =>
      setForm((f) => ({ ...f, [key]: value }));
  const text = (key: keyof Form) => (e: { target: { value: string } }) => set(key)(e.target.value);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (save.isPending) return;
    const result = validateForm(poolInputSchema, {
      provider: form.provider,
      costPerCredit: form.costPerCredit,
      autoRefillThreshold: wholeNumber(form.autoRefillThreshold),
      autoRefillThresholdPercent: optionalWhole(form.autoRefillThresholdPercent),
      autoRefillAmount: wholeNumber(form.autoRefillAmount),
      refillMode: form.refillMode,
      refillTargetBalance: optionalWhole(form.refillTargetBalance),
      emergencyReserve: wholeNumber(form.emergencyReserve),
      billingMode: form.billingMode,
      billingUrl: form.billingUrl.trim() === '' ? null : form.billingUrl.trim(),
      billingApiKey: form.removeBillingApiKey ? null : form.billingApiKey === '' ? undefined : form.billingApiKey,
    });
    if (!result.ok) {
      setErrors(form.provider === '' ? { ...result.errors, provider: 'Choose a provider' } : result.errors);
      return;
    }
    setErrors({});
    save.mutate(result.data);
  };

  const refillCost = estimateUsd(wholeNumber(form.autoRefillAmount), form.costPerCredit);

  return (
    <Dialog open={open} title={editing ? `Edit pool ${pool.provider}` : 'Create pool'} onClose={onClose} width={620}>
      <form onSubmit={submit} noValidate>
        {save.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(save.error)}
          </div>
        )}
        <div className="form-grid form-grid-2">
          {editing ? (
            <Field id={`${id}-provider`} label="Provider" hint="A pool keeps its provider.">
              <input id={`${id}-provider`} readOnly autoComplete="off" value={form.provider} />
            </Field>
          ) : (
            <Field
              id={`${id}-provider`}
              label="Provider"
              error={errors.provider}
              hint={choices.length === 0 && providers.data ? 'Every provider has a pool. Add a provider on the Providers page first.' : 'A provider without a pool yet'}
            >
              <select
                id={`${id}-provider`}
                data-autofocus
                value={form.provider}
                onChange={(e) => {
                  const chosen = choices.find((c) => c.name === e.target.value);
                  // The provider's price per request is the usual cost per credit; the admin may change it.
                  setForm((f) => ({ ...f, provider: e.target.value, costPerCredit: f.costPerCredit || (chosen ? trimDecimal(chosen.costPerRequest) : '') }));
                }}
              >
                <option value="">Choose a provider…</option>
                {choices.map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.name} ({c.kind}){c.isActive ? '' : ' · inactive'}
                  </option>
                ))}
              </select>
            </Field>
          )}
          <Field id={`${id}-cost`} label="Cost per credit (USD)" error={errors.costPerCredit} hint='What one provider credit costs, e.g. "0.039"'>
            <input id={`${id}-cost`} data-autofocus={editing ? true : undefined} inputMode="decimal" autoComplete="off" value={form.costPerCredit} onChange={text('costPerCredit')} />
          </Field>
        </div>

        <fieldset className="form-section">
          <legend>Auto-refill</legend>
          <div className="form-grid form-grid-2">
            <Field id={`${id}-threshold`} label="Refill threshold (credits)" error={errors.autoRefillThreshold} hint="Refill when the balance falls to this">
              <input id={`${id}-threshold`} type="number" min={0} step={1} value={form.autoRefillThreshold} onChange={text('autoRefillThreshold')} />
            </Field>
            <Field id={`${id}-percent`} label="Threshold % of last refill (optional)" error={errors.autoRefillThresholdPercent} hint="Overrides the fixed threshold once the pool was refilled">
              <input id={`${id}-percent`} type="number" min={1} max={100} step={1} placeholder="—" value={form.autoRefillThresholdPercent} onChange={text('autoRefillThresholdPercent')} />
            </Field>
            <Field id={`${id}-mode`} label="Refill mode" error={errors.refillMode} hint={form.refillMode === 'fixed' ? 'Buys the same amount each time' : 'Buys what is missing up to a target'}>
              <select id={`${id}-mode`} value={form.refillMode} onChange={(e) => set('refillMode')(e.target.value as Form['refillMode'])}>
                <option value="fixed">Fixed amount</option>
                <option value="top_up">Top up to a target</option>
              </select>
            </Field>
            {form.refillMode === 'fixed' ? (
              <Field id={`${id}-amount`} label="Refill amount (credits)" error={errors.autoRefillAmount} hint={refillCost ? `About ${refillCost} per refill` : 'Credits bought per refill'}>
                <input id={`${id}-amount`} type="number" min={0} step={1} value={form.autoRefillAmount} onChange={text('autoRefillAmount')} />
              </Field>
            ) : (
              <Field id={`${id}-target`} label="Target balance (credits)" error={errors.refillTargetBalance} hint="The balance a refill brings the pool up to">
                <input id={`${id}-target`} type="number" min={1} step={1} value={form.refillTargetBalance} onChange={text('refillTargetBalance')} />
              </Field>
            )}
            <Field id={`${id}-reserve`} label="Emergency reserve (credits)" error={errors.emergencyReserve} hint="Kept back for when the pool runs dry">
              <input id={`${id}-reserve`} type="number" min={0} step={1} value={form.emergencyReserve} onChange={text('emergencyReserve')} />
            </Field>
          </div>
        </fieldset>

        <fieldset className="form-section">
          <legend>Billing</legend>
          <div className="form-grid form-grid-2">
            <Field
              id={`${id}-billing`}
              label="Billing mode"
              error={errors.billingMode}
              hint={form.billingMode === 'manual' ? 'An admin buys credits; Creditdesk records them' : 'Creditdesk buys through the billing endpoint'}
            >
              <select id={`${id}-billing`} value={form.billingMode} onChange={(e) => set('billingMode')(e.target.value as Form['billingMode'])}>
                <option value="manual">Manual</option>
                <option value="http">HTTP endpoint</option>
              </select>
            </Field>
            <Field id={`${id}-url`} label={form.billingMode === 'http' ? 'Billing URL' : 'Billing URL (http mode only)'} error={errors.billingUrl} hint="The endpoint that buys credits">
              <input id={`${id}-url`} type="url" autoComplete="off" spellCheck={false} placeholder="https://billing.example.com/purchase" value={form.billingUrl} onChange={text('billingUrl')} />
            </Field>
          </div>
          <div className="key-box">
            <div className="key-box-head">
              Billing API key{' '}
              {editing && pool.billingApiKeySet && !form.removeBillingApiKey ? (
                <span className="badge badge-ok" data-testid="billing-key-status">
                  Set
                </span>
              ) : (
                <span className="badge badge-muted" data-testid="billing-key-status">
                  Not set
                </span>
              )}
              <span className="muted">write-only: stored encrypted, never shown again</span>
            </div>
            <div className="form-grid form-grid-2">
              <Field
                id={`${id}-key`}
                label={editing && pool.billingApiKeySet ? 'Replace key' : 'New key'}
                error={errors.billingApiKey}
                hint={editing && pool.billingApiKeySet ? 'Leave empty to keep the current key.' : 'Optional; sent as the bearer token to the billing URL.'}
              >
                <input
                  id={`${id}-key`}
                  type="password"
                  autoComplete="new-password"
                  spellCheck={false}
                  disabled={form.removeBillingApiKey}
                  value={form.billingApiKey}
                  onChange={text('billingApiKey')}
                />
              </Field>
              {editing && pool.billingApiKeySet && (
                <label className="checkbox-inline key-remove">
                  <input type="checkbox" checked={form.removeBillingApiKey} onChange={(e) => setForm((f) => ({ ...f, removeBillingApiKey: e.target.checked, billingApiKey: '' }))} />
                  Remove the stored key
                </label>
              )}
            </div>
          </div>
        </fieldset>

        <FormActions onClose={onClose} busy={save.isPending} label={editing ? 'Save pool' : 'Create pool'} />
      </form>
    </Dialog>
  );
}
