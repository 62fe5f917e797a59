import { Bar, BarChart, Tooltip } from 'recharts';
import type { ApiKeyUsageView } from '../../../../shared/auth';

/** A key's calls per day over the last 30 days, as a row-sized bar chart with the total beside it. */
export function UsageSparkline({ usage }: { usage: ApiKeyUsageView | undefined }) {
  if (!usage) return <span className="muted">—</span>;
  const label = `${usage.total.toLocaleString()} calls in the last 30 days`;
  return (
    <span className="usage-sparkline" role="img" aria-label={label} title={label} data-testid="usage-sparkline">
      <BarChart width={90} height={22} data={usage.days} margin={{ top: 1, right: 0, bottom: 1, left: 0 }} barCategoryGap={1}>
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
      <span className="usage-total">{usage.total.toLocaleString()}</span>
    </span>
  );
}
