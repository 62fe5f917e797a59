import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useId, useMemo, useRef } from 'react';
import { useSearchParams } from 'wouter';
import type { z } from 'zod';
import { dayRangeSchema, splitKeys, type trendSchema } from '../../../../shared/analytics';
import { formatCount, formatUsd, microsToDecimal, parseMicros } from '../../components/Amount';
import { PageHeader } from '../../components/EmptyState';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { capitalise } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { formatRate } from '../dashboard/format';
import { downloadText, trendCsv, trendCsvFileName } from './csv';
import { formatUsdShort } from './money';
import { ForecastView } from './PoolForecast';
import { ReallocationPanel } from './ReallocationPanel';
import { DEFAULT_RANGE, daysInclusive, isRangeId, isSplit, presetRange, presets, splitLabels, todayUtc, type RangeId, type Split } from './range';
import { TopUsers } from './TopUsers';
import { TrendCharts } from './TrendCharts';
import { WhatIfPanel } from './WhatIfPanel';
import './usage.css';
import { Skeleton } from '../../components/Skeleton';

type Trend = z.infer<typeof trendSchema>;

/**
 * Usage and cost for analysts: a range and a split drive the trend charts, the top users and the
 * CSV export; forecast, what-if and the last reallocation sit below. Range and split live in the
 * URL, so a view can be shared. Nothing on this page changes anything.
 */
export function UsageView() {
  const trpc = useTRPC();
  const toast = useToast();
  const id = useId();
  const [params, setParams] = useSearchParams();

  const rangeParam = params.get('range');
  const rangeId: RangeId = isRangeId(rangeParam) ? rangeParam : DEFAULT_RANGE;
  const splitParam = params.get('split');
  const split: Split = isSplit(splitParam) ? splitParam : 'none';
  const today = todayUtc();
  const fallback = presetRange(DEFAULT_RANGE, today);
  const custom = { from: params.get('from') ?? fallback.from, to: params.get('to') ?? fallback.to };

  // A custom range is checked with the server's own schema; while it is invalid the last valid one stays on screen.
  const customCheck = rangeId === 'custom' ? dayRangeSchema.safeParse(custom) : null;
  const customErrors: Partial<Record<'from' | 'to', string>> = {};
  if (customCheck && !customCheck.success) {
    for (const issue of customCheck.error.issues) {
      const key = issue.path[0] === 'to' ? 'to' : 'from';
      customErrors[key] ??= capitalise(issue.message);
    }
  }
  const lastValid = useRef(fallback);
  const range = rangeId === 'custom' ? (customCheck?.success ? customCheck.data : lastValid.current) : presetRange(rangeId, today);
  lastValid.current = range;

  const update = (patch: Record<string, string | null>) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(patch)) {
          if (v === null) next.delete(k);
          else next.set(k, v);
        }
        return next;
      },
      { replace: true },
    );

  const chooseRange = (next: RangeId) => {
    if (next === 'custom') update({ range: 'custom', from: range.from, to: range.to });
    else update({ range: next === DEFAULT_RANGE ? null : next, from: null, to: null });
  };

  const trend = useQuery(trpc.admin.usage.trend.queryOptions({ range, split }, { placeholderData: keepPreviousData, refetchInterval: 5 * 60_000 }));
  const forecast = useQuery(trpc.admin.usage.forecast.queryOptions(undefined, { refetchInterval: 5 * 60_000 }));
  const t = trend.data;

  const exportCsv = () => {
    if (!t) return;
    const name = trendCsvFileName(t);
    downloadText(name, trendCsv(t));
    toast.show(`Exported ${formatCount(t.points.length)} days to ${name}.`, 'info');
  };

  return (
    <div className="page page-wide usage">
      <PageHeader
        title="Usage"
        description="Requests, credits and provider cost per UTC day, split by tier, provider, enhancement type or source; forecasts and what-if scenarios."
        actions={
          <button type="button" className="button" onClick={exportCsv} disabled={!t || t.points.length === 0} title="Download the days shown as CSV">
            ⤓ Export CSV
          </button>
        }
      />

      <section className="section usage-controls" aria-label="Usage filters">
        <div className="toolbar usage-toolbar">
          <div className="segmented" role="group" aria-label="Range">
            {presets.map((p) => (
              <button key={p.id} type="button" className={rangeId === p.id ? 'segment active' : 'segment'} aria-pressed={rangeId === p.id} onClick={() => chooseRange(p.id)}>
                {p.label}
              </button>
            ))}
            <button type="button" className={rangeId === 'custom' ? 'segment active' : 'segment'} aria-pressed={rangeId === 'custom'} onClick={() => chooseRange('custom')}>
              Custom
            </button>
          </div>
          {rangeId === 'custom' && (
            <div className="usage-dates">
              <label className="toolbar-field" htmlFor={`${id}-from`}>
                From
              </label>
              <input
                id={`${id}-from`}
                type="date"
                value={custom.from}
                max={today}
                aria-invalid={!!customErrors.from}
                aria-describedby={customErrors.from ? `${id}-range-error` : undefined}
                onChange={(e) => update({ from: e.target.value })}
              />
              <label className="toolbar-field" htmlFor={`${id}-to`}>
                To
              </label>
              <input
                id={`${id}-to`}
                type="date"
                value={custom.to}
                aria-invalid={!!customErrors.to}
                aria-describedby={customErrors.to ? `${id}-range-error` : undefined}
                onChange={(e) => update({ to: e.target.value })}
              />
            </div>
          )}
          <label className="toolbar-field">
            <span>Split</span>
            <select aria-label="Split" value={split} onChange={(e) => update({ split: e.target.value === 'none' ? null : e.target.value })}>
              {splitKeys.map((k) => (
                <option key={k} value={k}>
                  {splitLabels[k]}
                </option>
              ))}
            </select>
          </label>
          <span className="toolbar-spacer" />
          {trend.isFetching && <span className="usage-spinner" aria-label="Loading" />}
          {t && <ShowingNote trend={t} />}
        </div>
        {(customErrors.from || customErrors.to) && (
          <div className="field-error usage-range-error" id={`${id}-range-error`} role="alert">
            {[customErrors.from, customErrors.to].filter(Boolean).join(' · ')}
          </div>
        )}
        {trend.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(trend.error)}
          </div>
        )}
        {t && <Summary trend={t} />}
      </section>

      {trend.isPending && <Skeleton lines={3} />}
      {t && (
        <div className={trend.isPlaceholderData ? 'usage-stale' : undefined}>
          <TrendCharts trend={t} extra={<ReallocationPanel />} />
        </div>
      )}

      <TopUsers range={range} />

      <section className="section usage-panel" aria-labelledby="usage-forecast-title">
        <div className="usage-panel-header">
          <h2 id="usage-forecast-title">Forecast</h2>
          <span className="muted">At the average burn of the last 7 days.</span>
        </div>
        {forecast.isError && <p className="table-error">{errorMessage(forecast.error)}</p>}
        {forecast.isPending && <Skeleton lines={3} />}
        {forecast.data && <ForecastView forecast={forecast.data} testId="usage-forecast" />}
      </section>

      <WhatIfPanel />
    </div>
  );
}

function ShowingNote({ trend }: { trend: Trend }) {
  const first = trend.points[0]?.day;
  const last = trend.points.at(-1)?.day;
  return (
    <span className="toolbar-total" data-testid="usage-showing">
      {first && last ? (
        <>
          <span data-testid="usage-days">{formatCount(daysInclusive(first, last))}</span> days · {first} – {last} (UTC)
        </>
      ) : (
        'No days'
      )}
    </span>
  );
}

/** Totals over the days shown; money summed exactly from the decimal strings. */
function Summary({ trend }: { trend: Trend }) {
  const s = useMemo(() => {
    let requests = 0;
    let successful = 0;
    let credits = 0;
    let platform = 0;
    let cost = 0n;
    for (const p of trend.points) {
      requests += p.totalRequests;
      successful += p.successfulRequests;
      credits += p.creditsConsumed;
      platform += p.platformCredits;
      cost += parseMicros(p.costUsd) ?? 0n;
    }
    return { requests, successful, credits, platform, cost: microsToDecimal(cost).replaceAll(',', '') };
  }, [trend]);
  return (
    <dl className="usage-summary" data-testid="usage-summary">
      <div>
        <dt>Requests</dt>
        <dd data-testid="usage-total-requests">{formatCount(s.requests)}</dd>
      </div>
      <div>
        <dt>Success rate</dt>
        <dd>{s.requests > 0 ? formatRate(s.successful / s.requests) : '—'}</dd>
      </div>
      <div>
        <dt>Credits</dt>
        <dd data-testid="usage-total-credits">{formatCount(s.credits)}</dd>
      </div>
      <div>
        <dt>Overflow credits</dt>
        <dd>
          {formatCount(s.platform)}
          {s.credits > 0 && <span className="stat-sub">{formatRate(s.platform / s.credits)} of credits</span>}
        </dd>
      </div>
      <div>
        <dt>Provider cost</dt>
        <dd data-testid="usage-total-cost" title={formatUsd(s.cost)}>
          {formatUsdShort(s.cost)}
        </dd>
      </div>
    </dl>
  );
}
