import { Bar, BarChart, Tooltip } from 'recharts';
import type { ApiKeyUsageView } from '../../../../shared/auth';

/** The bars of a key's usage sparkline; its own module so recharts loads only where a chart is drawn. */
export function UsageSparklineBars({ days }: { days: ApiKeyUsageView['days'] }) {
  return (
    <BarChart width={90} height={22} data={days} margin={{ top: 1, right: 0, bottom: 1, left: 0 }} barCategoryGap={1}>
      <Tooltip
        cursor={false}
        wrapperStyle={{ zIndex: 5 }}
        content={({ active, payload }) => {
          const d = active ? (payload?.[0]?.payload as { day: string; calls: number } | undefined) : undefined;
          return d ? <div className="chart-tooltip">{`${d.day}: ${d.calls.toLocaleString()} calls`}</div> : null;
        }}
      />
      <Bar dataKey="calls" fill="var(--accent, #3b6ef5)" isAnimationActive={false} minPointSize={1} />
    </BarChart>
  );
}
