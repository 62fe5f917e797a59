import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import type { z } from 'zod';
import type { forecastSchema } from '../../../../shared/analytics';
import { formatCount, formatUsd } from '../../components/Amount';
import { errorMessage } from '../../lib/errors';
import { useTRPC } from '../../trpc';
import './forecast.css';
import { Skeleton } from '../../components/Skeleton';

export type Forecast = z.infer<typeof forecastSchema>;

const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const shortDate = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
const formatDay = (day: string) => shortDate.format(new Date(`${day}T00:00:00Z`));

/**
 * The forecast as figures: per pool, how long it lasts at the trailing 7-day burn and what refill
 * covers the rest of the month; for the month, provider cost projected against the budget.
 */
export function ForecastView({ forecast, testId = 'forecast' }: { forecast: Forecast; testId?: string }) {
  const { month, pools } = forecast;
  return (
    <div className="forecast" data-testid={testId}>
      <MonthForecast month={month} />
      <div className="forecast-pools">
        <table className="data-table forecast-table" aria-label="Pool forecast" data-testid={`${testId}-pools`}>
          <thead>
            <tr>
              <th>Pool</th>
              <th className="num">Balance</th>
              <th className="num" title="Average credits drawn per day over the last 7 finished days">
                Burn/day
              </th>
              <th className="num">Days left</th>
              <th>Empty on</th>
              <th className="num" title="Credits to add so the pool lasts to the end of the month at this burn">
                Refill to cover month
              </th>
            </tr>
          </thead>
          <tbody>
            {pools.length === 0 ? (
              <tr className="status-row">
                <td colSpan={6} className="muted">
                  No active pools.
                </td>
              </tr>
            ) : (
              pools.map((p) => {
                // Empties before the month ends (today counts): a refill is due this month.
                const short = p.daysUntilEmpty !== null && p.daysUntilEmpty < month.daysLeft + 1;
                const urgent = p.daysUntilEmpty !== null && p.daysUntilEmpty < 3;
                return (
                  <tr key={p.provider} data-testid={`forecast-pool-${p.provider}`}>
                    <td className="mono strong">{p.provider}</td>
                    <td className={p.balance === 0 ? 'num balance-zero' : 'num'}>{formatCount(p.balance)}</td>
                    <td className="num">{p.burnPerDay > 0 ? oneDecimal.format(p.burnPerDay) : <span className="muted">0</span>}</td>
                    <td className={urgent ? 'num balance-zero' : short ? 'num balance-low' : 'num'}>
                      {p.daysUntilEmpty === null ? (
                        <span className="muted" title="No credits drawn in the last 7 days">
                          —
                        </span>
                      ) : (
                        oneDecimal.format(p.daysUntilEmpty)
                      )}
                    </td>
                    <td>{p.emptyOn ? <time dateTime={p.emptyOn}>{formatDay(p.emptyOn)}</time> : <span className="muted">not at this rate</span>}</td>
                    <td className="num">{p.refillToCoverMonth > 0 ? <strong>{formatCount(p.refillToCoverMonth)}</strong> : <span className="muted">none needed</span>}</td>
                  </tr>
                );
              })
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** The month's provider cost at the trailing rate; the budget it is held to is in the budget figures above. */
function MonthForecast({ month }: { month: Forecast['month'] }) {
  return (
    <div className="forecast-month" data-testid="forecast-month">
      <div className="forecast-month-row">
        <span className="stat-label">Provider cost to date</span>
        <span className="forecast-figure">{formatUsd(month.monthToDateCostUsd)}</span>
      </div>
      <div className="forecast-month-row">
        <span className="stat-label">Projected</span>
        <span className="forecast-figure forecast-projected" data-testid="forecast-projected">
          {formatUsd(month.projectedCostUsd)}
        </span>
      </div>
      <div className="forecast-note">
        {month.daysLeft} {month.daysLeft === 1 ? 'day' : 'days'} left this month
      </div>
    </div>
  );
}

/**
 * The forecast panel of the Pools page: fetches it, and again whenever the pools list changes
 * (a refill, a suspension) so the two never disagree for long.
 */
export function PoolForecast() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const forecast = useQuery(trpc.admin.usage.forecast.queryOptions(undefined, { refetchInterval: 60_000, placeholderData: keepPreviousData }));
  const poolsUpdatedAt = useQuery(trpc.admin.pools.list.queryOptions()).dataUpdatedAt;
  const seen = useRef(poolsUpdatedAt);
  useEffect(() => {
    if (seen.current === poolsUpdatedAt) return;
    seen.current = poolsUpdatedAt;
    void queryClient.invalidateQueries(trpc.admin.usage.forecast.queryFilter());
  }, [poolsUpdatedAt, queryClient, trpc]);

  return (
    <section className="section" aria-labelledby="pool-forecast-title">
      <div className="section-header">
        <div>
          <h2 id="pool-forecast-title">Forecast</h2>
          <p className="section-description">At the average burn of the last 7 days: when each pool runs dry, and the month's provider cost.</p>
        </div>
      </div>
      {forecast.isError && !forecast.data && (
        <div className="alert alert-error" role="alert">
          {errorMessage(forecast.error)}
        </div>
      )}
      {forecast.isPending && <Skeleton lines={3} />}
      {forecast.data && <ForecastView forecast={forecast.data} testId="pool-forecast" />}
    </section>
  );
}
