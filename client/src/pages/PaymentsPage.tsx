import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState, type FormEvent } from 'react';
import { tiers, type Tier } from '../../../shared/enums';
import { priceMappingInputSchema, type PriceKind, type PriceMapping } from '../../../shared/payments';
import { isAdmin, useMe } from '../auth';
import { DataTable } from '../components/DataTable';
import { PageHeader } from '../components/EmptyState';
import { Field } from '../components/FormField';
import { useToast } from '../components/Toasts';
import { errorMessage } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { validate, type FieldErrors } from '../lib/forms';
import { useTRPC } from '../trpc';
import { StripeEventsSection } from './payments/StripeEventsSection';

const priceCol = createColumnHelper<PriceMapping>();

type Draft = { priceId: string; kind: PriceKind; tier: Tier; credits: string; expiresInDays: string };
const emptyDraft: Draft = { priceId: '', kind: 'pack', tier: 'plus', credits: '', expiresInDays: '' };

const toInput = (d: Draft) => ({
  priceId: d.priceId,
  kind: d.kind,
  ...(d.kind === 'tier' ? { tier: d.tier } : {}),
  ...(d.kind === 'pack' && d.credits.trim() !== '' ? { credits: Number(d.credits) } : {}),
  ...(d.kind === 'pack' && d.expiresInDays.trim() !== '' ? { expiresInDays: Number(d.expiresInDays) } : {}),
});

/** Stripe: which price gives which tier or credit pack, and every event received with what it did. */
export function PaymentsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const admin = isAdmin(useMe());
  const prices = useQuery(trpc.admin.payments.prices.list.queryOptions());
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [errors, setErrors] = useState<FieldErrors>({});

  const upsert = useMutation(
    trpc.admin.payments.prices.upsert.mutationOptions({
      onSuccess: (p) => {
        toast.show(`Price ${p.priceId} mapped to ${p.kind === 'tier' ? `the ${p.tier} tier` : `a pack of ${p.credits} credits`}.`);
        setDraft(emptyDraft);
        void queryClient.invalidateQueries(trpc.admin.payments.prices.list.queryFilter());
      },
    }),
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const checked = validate(priceMappingInputSchema, toInput(draft));
    if (!checked.ok) return setErrors(checked.errors);
    setErrors({});
    upsert.mutate(checked.data);
  };

  const priceColumns = useMemo(
    () => [
      priceCol.accessor('priceId', { header: 'Stripe price', cell: (c) => <code className="strong">{c.getValue()}</code> }),
      priceCol.accessor('kind', { header: 'Kind', cell: (c) => (c.getValue() === 'tier' ? 'Tier' : 'Credit pack') }),
      priceCol.display({
        id: 'gives',
        header: 'Gives',
        cell: (c) => {
          const p = c.row.original;
          if (p.kind === 'tier') return `${p.tier} tier`;
          return `${p.credits} credits${p.expiresInDays ? `, expiring after ${p.expiresInDays} days` : ''}`;
        },
      }),
      priceCol.accessor('updatedAt', { header: 'Updated', cell: (c) => <time dateTime={c.getValue()}>{formatDateTime(c.getValue())}</time> }),
      priceCol.display({
        id: 'actions',
        header: () => <span className="sr-only">Actions</span>,
        meta: { align: 'right' },
        cell: (c) => {
          const p = c.row.original;
          return admin ? (
            <button
              type="button"
              className="button button-small"
              aria-label={`Edit ${p.priceId}`}
              onClick={() => {
                setErrors({});
                setDraft({ priceId: p.priceId, kind: p.kind, tier: p.tier ?? 'plus', credits: p.credits?.toString() ?? '', expiresInDays: p.expiresInDays?.toString() ?? '' });
              }}
            >
              Edit
            </button>
          ) : null;
        },
      }),
    ],
    [admin],
  );

  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  return (
    <div className="page">
      <PageHeader
        title="Payments"
        description="Stripe's signed events (POST /webhooks/stripe) set tiers from subscriptions and grant credit packs from paid checkouts; refunds and disputes take back what is unspent. Each event is applied once."
      />
      <section className="section" aria-labelledby="price-mapping-title">
        <div className="section-header">
          <div>
            <h2 id="price-mapping-title">Price mapping</h2>
            <p className="section-description">
              A subscription price gives a tier; a pack price grants credits when a checkout naming it in <code>metadata.creditdesk_price_id</code> is paid.
            </p>
          </div>
        </div>
        {admin ? (
          <form className="form-row" onSubmit={submit} aria-label="Map a price" noValidate>
            <Field id="price-id" label="Stripe price" error={errors.priceId}>
              <input id="price-id" className="mono" value={draft.priceId} placeholder="price_…" onChange={(e) => set('priceId', e.target.value)} />
            </Field>
            <Field id="price-kind" label="Kind">
              <select id="price-kind" value={draft.kind} onChange={(e) => set('kind', e.target.value as PriceKind)}>
                <option value="tier">Tier</option>
                <option value="pack">Credit pack</option>
              </select>
            </Field>
            {draft.kind === 'tier' ? (
              <Field id="price-tier" label="Tier" error={errors.tier}>
                <select id="price-tier" value={draft.tier} onChange={(e) => set('tier', e.target.value as Tier)}>
                  {tiers.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              </Field>
            ) : (
              <>
                <Field id="price-credits" label="Credits" error={errors.credits}>
                  <input id="price-credits" inputMode="numeric" value={draft.credits} onChange={(e) => set('credits', e.target.value)} />
                </Field>
                <Field id="price-expiry" label="Expires after (days)" error={errors.expiresInDays} hint="Empty: never">
                  <input id="price-expiry" inputMode="numeric" value={draft.expiresInDays} onChange={(e) => set('expiresInDays', e.target.value)} />
                </Field>
              </>
            )}
            <button type="submit" className="button button-primary" disabled={upsert.isPending}>
              {upsert.isPending ? 'Saving…' : 'Save mapping'}
            </button>
            {upsert.isError && (
              <div className="field-error" role="alert">
                {errorMessage(upsert.error)}
              </div>
            )}
          </form>
        ) : (
          <p className="field-hint">Analysts see the mapping and the events; only admins change the mapping.</p>
        )}
        <DataTable
          label="Price mapping"
          testId="price-mapping-table"
          columns={priceColumns}
          data={prices.data}
          loading={prices.isPending}
          error={prices.isError ? errorMessage(prices.error) : null}
          getRowId={(p) => p.priceId}
          emptyMessage="No prices mapped yet: events for unmapped prices are recorded as ignored."
        />
      </section>
      <StripeEventsSection admin={admin} />
    </div>
  );
}
