import { keepPreviousData, skipToken, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import type { z } from 'zod';
import { whatIfInputSchema } from '../../../../shared/analytics';
import { tiers, type Tier } from '../../../../shared/enums';
import { formatCount, formatUsd, parseMicros } from '../../components/Amount';
import { wholeNumber } from '../../components/FormField';
import { errorMessage } from '../../lib/errors';
import { capitalise } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { TierBadge, tierLabel } from '../users/TierBadge';

type WhatIfInput = z.infer<typeof whatIfInputSchema>;
type Draft = { tiers: Record<Tier, { credits: string; pool: boolean }>; days: string };

const DEFAULT_DAYS = '30';

function draftFrom(current: { tier: Tier; monthlyCredits: number; poolAccess: boolean }[]): Draft {
  const byTier = Object.fromEntries(current.map((t) => [t.tier, { credits: String(t.monthlyCredits), pool: t.poolAccess }])) as Draft['tiers'];
  for (const t of tiers) byTier[t] ??= { credits: '0', pool: false };
  return { tiers: byTier, days: DEFAULT_DAYS };
}

function toInput(d: Draft) {
  return {
    tiers: Object.fromEntries(tiers.map((t) => [t, { monthlyCredits: wholeNumber(d.tiers[t].credits), poolAccess: d.tiers[t].pool }])),
    days: wholeNumber(d.days),
  };
}

/** Zod issues keyed by their path (`tiers.plus.monthlyCredits`, `days`). */
function issuesByPath(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of error.issues) out[i.path.join('.')] ??= capitalise(i.message);
  return out;
}

/**
 * Replays the last days of real requests under other tier allowances: what would have come out of
 * allowances, overflowed to the platform, or been refused, and what that does to provider cost.
 * Starts from the current tier settings; nothing here changes them.
 */
export function WhatIfPanel() {
  const trpc = useTRPC();
  const id = useId();
  const current = useQuery(trpc.admin.tiers.list.queryOptions());
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [submitted, setSubmitted] = useState<WhatIfInput | null>(null);

  // The current settings are the starting point, run once so the panel opens with a baseline.
  useEffect(() => {
    if (current.data && !draft) {
      const d = draftFrom(current.data);
      setDraft(d);
      const parsed = whatIfInputSchema.safeParse(toInput(d));
      if (parsed.success) setSubmitted(parsed.data);
    }
  }, [current.data, draft]);

  const result = useQuery(trpc.admin.usage.whatIf.queryOptions(submitted ?? skipToken, { placeholderData: keepPreviousData }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!draft) return;
    const parsed = whatIfInputSchema.safeParse(toInput(draft));
    if (!parsed.success) {
      setErrors(issuesByPath(parsed.error));
      return;
    }
    setErrors({});
    setSubmitted(parsed.data);
  };

  const setTier = (t: Tier, patch: Partial<{ credits: string; pool: boolean }>) => setDraft((d) => (d ? { ...d, tiers: { ...d.tiers, [t]: { ...d.tiers[t], ...patch } } } : d));

  const r = result.data;
  const cost = r ? (parseMicros(r.costDifferenceUsd) ?? 0n) : 0n;

  return (
    <section className="section usage-panel" aria-labelledby="whatif-title" data-testid="what-if">
      <div className="usage-panel-header">
        <h2 id="whatif-title">What if</h2>
        <span className="muted">Replay the last days of real requests under other tier allowances. Nothing is changed.</span>
      </div>
      {current.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(current.error)}
        </div>
      )}
      <div className="whatif">
        <form onSubmit={submit} noValidate className="whatif-form" aria-label="What-if scenario">
          <table className="data-table whatif-tiers">
            <thead>
              <tr>
                <th>Tier</th>
                <th>Monthly credits</th>
                <th>Pool access</th>
              </tr>
            </thead>
            <tbody>
              {tiers.map((t) => {
                const now = current.data?.find((c) => c.tier === t);
                const err = errors[`tiers.${t}.monthlyCredits`];
                return (
                  <tr key={t}>
                    <td>
                      <TierBadge tier={t} />
                    </td>
                    <td>
                      <input
                        id={`${id}-${t}-credits`}
                        type="number"
                        min={0}
                        max={100_000}
                        step={1}
                        aria-label={`${tierLabel(t)} monthly credits`}
                        aria-invalid={!!err}
                        aria-describedby={err ? `${id}-${t}-err` : undefined}
                        disabled={!draft}
                        value={draft?.tiers[t].credits ?? ''}
                        onChange={(e) => setTier(t, { credits: e.target.value })}
                      />
                      {err ? (
                        <div className="field-error" id={`${id}-${t}-err`}>
                          {err}
                        </div>
                      ) : (
                        now && <div className="whatif-now">currently {formatCount(now.monthlyCredits)}</div>
                      )}
                    </td>
                    <td>
                      <label className="checkbox-inline">
                        <input type="checkbox" disabled={!draft} checked={draft?.tiers[t].pool ?? false} onChange={(e) => setTier(t, { pool: e.target.checked })} />
                        overflow to pool
                      </label>
                      {now && <div className="whatif-now">currently {now.poolAccess ? 'on' : 'off'}</div>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <div className="whatif-actions">
            <label className="toolbar-field" htmlFor={`${id}-days`}>
              Days
            </label>
            <input
              id={`${id}-days`}
              className="whatif-days"
              type="number"
              min={1}
              max={90}
              step={1}
              aria-invalid={!!errors.days}
              disabled={!draft}
              value={draft?.days ?? DEFAULT_DAYS}
              onChange={(e) => setDraft((d) => (d ? { ...d, days: e.target.value } : d))}
            />
            <span className="toolbar-spacer" />
            <button
              type="button"
              className="button"
              disabled={!current.data}
              onClick={() => {
                if (!current.data) return;
                setDraft(draftFrom(current.data));
                setErrors({});
              }}
            >
              Reset to current
            </button>
            <button type="submit" className="button button-primary" disabled={!draft || result.isFetching}>
              {result.isFetching ? 'Running…' : 'Run scenario'}
            </button>
          </div>
          {errors.days && <div className="field-error">{errors.days}</div>}
        </form>

        <div className={result.isPlaceholderData ? 'whatif-result table-refreshing' : 'whatif-result'} data-testid="what-if-result" aria-live="polite">
          {result.isError && (
            <div className="alert alert-error" role="alert">
              {errorMessage(result.error)}
            </div>
          )}
          {!r && !result.isError && <p className="muted">{submitted ? 'Running…' : 'Loading the current tiers…'}</p>}
          {r && (
            <>
              <p className="whatif-summary">
                <strong data-testid="what-if-requests">{formatCount(r.requests)}</strong> requests from {r.from} to {r.to}
                <span className="whatif-cost">
                  Provider cost{' '}
                  <strong className={cost < 0n ? 'delta-plus' : cost > 0n ? 'delta-minus' : undefined} data-testid="what-if-cost">
                    {cost === 0n ? 'unchanged' : `${formatUsd(r.costDifferenceUsd)}${cost < 0n ? ' saved' : ''}`}
                  </strong>
                </span>
              </p>
              <table className="data-table whatif-table" aria-label="Actual and scenario">
                <thead>
                  <tr>
                    <th />
                    <th className="num">Actual</th>
                    <th className="num">Scenario</th>
                    <th className="num">Change</th>
                  </tr>
                </thead>
                <tbody>
                  {(
                    [
                      ['allowance', 'From allowances'],
                      ['overflow', 'Overflow (platform pays)'],
                      ['refused', 'Refused (upgrade asked)'],
                    ] as const
                  ).map(([k, label]) => (
                    <tr key={k}>
                      <th scope="row">{label}</th>
                      <td className="num">{formatCount(r.actual[k])}</td>
                      <td className="num strong">{formatCount(r.scenario[k])}</td>
                      <td className="num">
                        <Change value={r.scenario[k] - r.actual[k]} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <table className="data-table whatif-table" aria-label="Scenario by tier">
                <thead>
                  <tr>
                    <th>Tier</th>
                    <th className="num">Requests</th>
                    <th className="num">Overflow actual</th>
                    <th className="num">Overflow scenario</th>
                    <th className="num">Refused</th>
                  </tr>
                </thead>
                <tbody>
                  {r.byTier.length === 0 ? (
                    <tr className="status-row">
                      <td colSpan={5} className="muted">
                        No requests in these days.
                      </td>
                    </tr>
                  ) : (
                    r.byTier.map((t) => (
                      <tr key={t.tier}>
                        <td>{(tiers as readonly string[]).includes(t.tier) ? <TierBadge tier={t.tier as Tier} /> : t.tier}</td>
                        <td className="num">{formatCount(t.requests)}</td>
                        <td className="num">{formatCount(t.actualOverflow)}</td>
                        <td className="num strong">{formatCount(t.overflow)}</td>
                        <td className={t.refused > 0 ? 'num balance-low' : 'num'}>{formatCount(t.refused)}</td>
                      </tr>
                    ))
                  )}
                </tbody>
              </table>
              <p className="whatif-note muted">Refusals that really happened are not in the ledger, so the actual side shows none.</p>
            </>
          )}
        </div>
      </div>
    </section>
  );
}

/** A signed change without colour: more overflow or fewer refusals is neither good nor bad here. */
function Change({ value }: { value: number }) {
  if (value === 0) return <span className="muted">0</span>;
  return <span className="strong">{value > 0 ? `+${formatCount(value)}` : `−${formatCount(-value)}`}</span>;
}
