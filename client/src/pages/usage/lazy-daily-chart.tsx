import { lazy, Suspense, type ComponentType } from 'react';
import type { ChartProps } from './charts';

/** The chart library's chunk; calling it early (a page about to show a chart) fetches it in parallel. */
export const loadDailyChart = () => import('./charts');

type DayRow = { day: string };
// lazy() drops DailyChart's row type parameter; LazyDailyChart below restores it for its callers.
const DailyChartChunk = lazy(() => loadDailyChart().then((m) => ({ default: m.DailyChart as ComponentType<ChartProps<DayRow>> })));

/**
 * DailyChart loaded on first use: the card keeps the chart's height meanwhile, so the figures
 * around it are shown (and do not move) without waiting for recharts.
 */
export function LazyDailyChart<Row extends DayRow>(props: ChartProps<Row>) {
  return (
    <Suspense fallback={<div className="chart" role="img" aria-label={props.label} aria-busy="true" style={{ height: props.height ?? 200 }} />}>
      <DailyChartChunk {...(props as unknown as ChartProps<DayRow>)} />
    </Suspense>
  );
}
