import { useMemo, type ReactNode } from 'react';
import type { z } from 'zod';
import type { TrendPoint, trendSchema } from '../../../../shared/analytics';
import { formatCount } from '../../components/Amount';
import { formatRate } from '../dashboard/format';
import { ChartCard, formatAxisPercent, formatAxisUsd, plotUsd, seriesColour, type Series } from './chart-card';
import { DailyChart } from './charts';
import { formatUsdShort } from './money';
import { splitLabels, splitNotes } from './range';

type Trend = z.infer<typeof trendSchema>;

const HEIGHT = 210;
const green = '#1d9a6c';
const red = '#c4312b';
const blue = '#2f5fd0';
const orange = '#d9822b';

/**
 * The trend as five charts: requests, credits and cost (a stacked series per split value when
 * split), success rate, and overflow to the platform against allowance credits.
 */
export function TrendCharts({ trend, extra }: { trend: Trend; extra?: ReactNode }) {
  const split = trend.split !== 'none';
  const values = trend.splitValues;

  const charts = useMemo(() => {
    const perValue = (metric: 'requests' | 'credits' | 'costUsd'): Series<TrendPoint>[] =>
      values.map((v, i) => ({
        name: v,
        colour: seriesColour(i),
        stack: 'split',
        value: (p) => (metric === 'costUsd' ? plotUsd(p.split[v]?.costUsd ?? '0') : (p.split[v]?.[metric] ?? 0)),
        display: (p) => (metric === 'costUsd' ? formatUsdShort(p.split[v]?.costUsd ?? '0') : formatCount(p.split[v]?.[metric] ?? 0)),
      }));
    const requests: Series<TrendPoint>[] = split
      ? perValue('requests')
      : [
          { name: 'Successful', colour: green, stack: 'r', value: (p) => p.successfulRequests, display: (p) => formatCount(p.successfulRequests) },
          { name: 'Failed', colour: red, stack: 'r', value: (p) => p.failedRequests, display: (p) => formatCount(p.failedRequests) },
        ];
    const credits: Series<TrendPoint>[] = split ? perValue('credits') : [{ name: 'Credits', colour: blue, value: (p) => p.creditsConsumed, display: (p) => formatCount(p.creditsConsumed) }];
    const cost: Series<TrendPoint>[] = split ? perValue('costUsd') : [{ name: 'Cost (USD)', colour: orange, value: (p) => plotUsd(p.costUsd), display: (p) => formatUsdShort(p.costUsd) }];
    return { requests, credits, cost };
  }, [split, values]);

  const splitNote = split ? `${splitLabels[trend.split].toLowerCase()}` : undefined;
  const noValues = split && values.length === 0;

  return (
    <div className="usage-charts" data-testid="usage-charts" data-split={trend.split}>
      <ChartCard title="Requests" note={splitNote} testId="chart-requests">
        {noValues ? (
          <NoSplitData />
        ) : (
          <DailyChart data={trend.points} series={charts.requests} height={HEIGHT} total={(p) => `${formatCount(p.totalRequests)} all requests`} label="Requests per day" />
        )}
      </ChartCard>
      <ChartCard title="Credits" note={splitNote} testId="chart-credits">
        {noValues ? (
          <NoSplitData />
        ) : (
          <DailyChart data={trend.points} series={charts.credits} height={HEIGHT} total={split ? (p) => `${formatCount(p.creditsConsumed)} all credits` : undefined} label="Credits per day" />
        )}
      </ChartCard>
      <ChartCard title="Provider cost" note={splitNote} testId="chart-cost">
        {noValues ? (
          <NoSplitData />
        ) : (
          <DailyChart
            data={trend.points}
            series={charts.cost}
            height={HEIGHT}
            leftFormat={formatAxisUsd}
            decimals
            total={split ? (p) => `${formatUsdShort(p.costUsd)} all cost` : undefined}
            label="Provider cost per day"
          />
        )}
      </ChartCard>
      <ChartCard title="Success rate" note={split ? 'all requests (not split)' : undefined} testId="chart-success">
        <DailyChart
          data={trend.points}
          series={[
            {
              name: 'Success rate',
              colour: green,
              kind: 'line',
              dots: true,
              value: (p) => p.successRate,
              display: (p) => (p.successRate === null ? 'no requests' : `${formatRate(p.successRate)} of ${formatCount(p.totalRequests)}`),
            },
          ]}
          height={HEIGHT}
          leftFormat={formatAxisPercent}
          leftDomain={[0, 1]}
          leftTicks={[0, 0.25, 0.5, 0.75, 1]}
          decimals
          label="Share of requests that succeeded per day"
        />
      </ChartCard>
      <ChartCard title="Allowance vs overflow credits" note="overflow: the platform pays" testId="chart-overflow">
        <DailyChart
          data={trend.points}
          series={[
            { name: 'Allowance', colour: blue, stack: 'o', value: (p) => p.allowanceCredits, display: (p) => formatCount(p.allowanceCredits) },
            { name: 'Overflow (platform)', colour: orange, stack: 'o', value: (p) => p.platformCredits, display: (p) => formatCount(p.platformCredits) },
          ]}
          height={HEIGHT}
          total={(p) => formatCount(p.allowanceCredits + p.platformCredits)}
          label="Credits from users' allowances and overflow credits from the platform pool per day"
        />
      </ChartCard>
      {extra}
      {split && splitNotes[trend.split] && <p className="usage-split-note muted">{splitNotes[trend.split]}</p>}
    </div>
  );
}

function NoSplitData() {
  return <div className="usage-chart-empty muted">No requests in this range carry this split.</div>;
}
