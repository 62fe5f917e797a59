import { keepPreviousData, useIsMutating, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, type ReactNode } from 'react';
import type { z } from 'zod';
import type { dashboardSchema } from '../../../../shared/analytics';
import { formatCount, formatUsd } from '../../components/Amount';
import { PageHeader } from '../../components/EmptyState';
import { errorMessage } from '../../lib/errors';
import { markOnce } from '../../lib/marks';
import { formatDateTime } from '../../lib/format';
import { useTRPC } from '../../trpc';
import { formatUsdShort } from '../usage/money';
import { BudgetFigures } from '../pools/BudgetFigures';
import { ForecastView } from '../usage/PoolForecast';
import { ChartCard, formatAxisUsd, plotUsd, type Series } from '../usage/chart-card';
import { LazyDailyChart } from '../usage/lazy-daily-chart';
import { AlertsPanel } from './AlertsPanel';
import { formatClock } from './format';
import { ProviderStatus } from './ProviderStatus';
import './dashboard.css';
import { Skeleton } from '../../components/Skeleton';

type Dashboard = z.infer<typeof dashboardSchema>;
type TrendRow = Dashboard['trend'][number];

const REFRESH_MS = 30_000;

const trendSeries: Series<TrendRow>[] = [
  { name: 'Requests', colour: '#9db4ea', value: (r) => r.requests, display: (r) => formatCount(r.requests) },
  { name: 'Credits', colour: '#2f5fd0', kind: 'line', dots: true, value: (r) => r.credits, display: (r) => formatCount(r.credits) },
  { name: 'Cost (USD)', colour: '#d9822b', kind: 'line', dots: true, right: true, value: (r) => plotUsd(r.costUsd), display: (r) => formatUsdShort(r.costUsd) },
];

/**
 * The admin's glance: every figure from one query (admin.dashboard), refreshed every 30 s and on
 * demand. A refresh keeps the figures on screen while it runs: nothing blanks or jumps.
 */
export function DashboardView() {
  markOnce('cd:dashboard-view');
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const dash = useQuery(trpc.admin.dashboard.queryOptions(undefined, { refetchInterval: REFRESH_MS, placeholderData: keepPreviousData, staleTime: 10_000 }));
  const d = dash.data;

  const invalidate = useCallback(() => queryClient.invalidateQueries(trpc.admin.dashboard.queryFilter()), [queryClient, trpc]);

  // A refill (from this page or anywhere) changes the figures: refetch as soon as it settles.
  const refills = useIsMutating({ mutationKey: trpc.admin.pools.refill.mutationKey() });
  const prevRefills = useRef(refills);
  useEffect(() => {
    if (prevRefills.current > 0 && refills === 0) void invalidate();
    prevRefills.current = refills;
  }, [refills, invalidate]);

  const updated = d?.generatedAt ?? (dash.dataUpdatedAt ? new Date(dash.dataUpdatedAt).toISOString() : null);

  return (
    <div className="page page-wide dash">
      <PageHeader
        title="Dashboard"
        description="Credits, cost, providers and alerts at a glance. Refreshes every 30 seconds."
        actions={
          <div className="dash-refresh">
            {updated && (
              <span className="dash-updated" title={formatDateTime(updated)}>
                {dash.isFetching && <span className="dash-spinner" aria-hidden />}
                Updated{' '}
                <time dateTime={updated} data-testid="dashboard-updated">
                  {formatClock(updated)}
                </time>
              </span>
            )}
            <button type="button" className="button" onClick={() => void dash.refetch()} disabled={dash.isFetching} aria-label="Refresh the dashboard">
              ↻ Refresh
            </button>
          </div>
        }
      />

      {dash.isError && (
        <div className="alert alert-error" role="alert">
          {d ? (
            <>
              Could not refresh: {errorMessage(dash.error)} The figures below are from {formatClock(updated)}.
            </>
          ) : (
            errorMessage(dash.error)
          )}
        </div>
      )}
      {!d && dash.isPending && <Skeleton lines={6} />}

      {d && <DashboardBody d={d} onRefilled={() => void invalidate()} />}
    </div>
  );
}

function DashboardBody({ d, onRefilled }: { d: Dashboard; onRefilled: () => void }) {
  const month = d.forecast.month;
  const poolCount = d.forecast.pools.length;
  const trendTotals = useMemo(() => d.trend.reduce((t, r) => ({ requests: t.requests + r.requests, credits: t.credits + r.credits }), { requests: 0, credits: 0 }), [d.trend]);
  return (
    <>
      <div className="dash-stats" data-testid="dashboard-stats">
        <Stat label="Platform credits remaining" value={formatCount(d.platformCreditsRemaining)} testId="stat-platform-credits" tone={d.platformCreditsRemaining === 0 ? 'bad' : undefined}>
          across {poolCount} active {poolCount === 1 ? 'pool' : 'pools'}
        </Stat>
        <Stat label="Credits consumed today" value={formatCount(d.creditsConsumedToday)} testId="stat-consumed-today">
          {formatCount(d.requestsToday)} {d.requestsToday === 1 ? 'request' : 'requests'} since 00:00 UTC
        </Stat>
        <Stat label="Active users" value={formatCount(d.activeUsers)} testId="stat-active-users">
          with credits remaining
        </Stat>
        <Stat label="Provider cost this month" value={formatUsd(d.monthCostUsd)} testId="stat-month-cost">
          projected {formatUsd(month.projectedCostUsd)}
        </Stat>
      </div>

      <BudgetFigures />

      <div className="dash-row">
        <ChartCard
          title="Usage, last 30 days"
          note={
            <>
              {formatCount(trendTotals.requests)} requests · {formatCount(trendTotals.credits)} credits
            </>
          }
          testId="dashboard-trend"
        >
          <LazyDailyChart data={d.trend} series={trendSeries} height={236} rightFormat={formatAxisUsd} label="Requests, credits and cost per day over the last 30 days" />
        </ChartCard>
        <AlertsPanel alerts={d.activeAlerts} count={d.activeAlertCount} />
      </div>

      <ProviderStatus dashboard={d} onRefilled={onRefilled} />

      <section className="section dash-panel" aria-labelledby="dash-forecast-title">
        <div className="dash-panel-header">
          <h2 id="dash-forecast-title">Forecast</h2>
          <span className="muted">At the average burn of the last 7 days.</span>
        </div>
        <ForecastView forecast={d.forecast} testId="dashboard-forecast" />
      </section>
    </>
  );
}

function Stat({ label, value, children, testId, tone }: { label: string; value: string; children?: ReactNode; testId: string; tone?: 'bad' }) {
  return (
    <div className="dash-stat">
      <div className="stat-label">{label}</div>
      <div className={tone === 'bad' ? 'dash-stat-value balance-zero' : 'dash-stat-value'} data-testid={testId}>
        {value}
      </div>
      {children && <div className="stat-sub">{children}</div>}
    </div>
  );
}
