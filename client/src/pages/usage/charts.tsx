import type { ReactNode } from 'react';
import { Bar, CartesianGrid, ComposedChart, Legend, Line, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';
import { formatCompact, formatDayLong, formatDayShort, type Series } from './chart-card';

export type ChartProps<Row extends { day: string }> = {
  data: Row[];
  series: Series<Row>[];
  height?: number;
  leftFormat?: (n: number) => string;
  rightFormat?: (n: number) => string;
  leftDomain?: [number, number];
  leftTicks?: number[];
  /** Fractional ticks on the left axis (money, rates); counts have whole ticks. */
  decimals?: boolean;
  /** A footer line in the tooltip, e.g. the stack's total. */
  total?: (row: Row) => ReactNode;
  label: string;
};

/**
 * One chart of daily figures: bars (optionally stacked) and lines, on one or two axes. No
 * animation, so a refetch redraws in place without flicker.
 */
export function DailyChart<Row extends { day: string }>({
  data,
  series,
  height = 200,
  leftFormat = formatCompact,
  rightFormat,
  leftDomain,
  leftTicks,
  decimals = false,
  total,
  label,
}: ChartProps<Row>) {
  const hasRight = series.some((s) => s.right);
  return (
    <div className="chart" role="img" aria-label={label} style={{ height }}>
      <ComposedChart data={data} responsive style={{ width: '100%', height: '100%' }} margin={{ top: 6, right: hasRight ? 2 : 8, bottom: 0, left: 0 }} barCategoryGap="15%">
        <CartesianGrid stroke="#eceef1" vertical={false} />
        <XAxis dataKey="day" tickFormatter={formatDayShort} tick={{ fontSize: 11, fill: '#7a828d' }} tickLine={false} axisLine={{ stroke: '#dcdfe4' }} minTickGap={24} />
        <YAxis
          yAxisId="left"
          tickFormatter={leftFormat}
          tick={{ fontSize: 11, fill: '#7a828d' }}
          tickLine={false}
          axisLine={false}
          width={48}
          allowDecimals={decimals}
          domain={leftDomain}
          ticks={leftTicks}
        />
        {hasRight && <YAxis yAxisId="right" orientation="right" tickFormatter={rightFormat} tick={{ fontSize: 11, fill: '#7a828d' }} tickLine={false} axisLine={false} width={52} />}
        <Tooltip isAnimationActive={false} cursor={{ fill: 'rgba(47, 95, 208, 0.06)' }} content={(props: TooltipContentProps) => <ChartTooltip {...props} series={series} total={total} />} />
        <Legend iconSize={8} iconType="square" itemSorter={null} wrapperStyle={{ fontSize: 11, paddingTop: 2 }} />
        {series.map((s) =>
          s.kind === 'line' ? (
            <Line
              key={s.name}
              yAxisId={s.right ? 'right' : 'left'}
              name={s.name}
              dataKey={s.value}
              stroke={s.colour}
              strokeWidth={1.75}
              dot={s.dots ? { r: 1.5, strokeWidth: 1 } : false}
              activeDot={{ r: 3 }}
              type="linear"
              isAnimationActive={false}
              connectNulls={false}
            />
          ) : (
            <Bar key={s.name} yAxisId={s.right ? 'right' : 'left'} name={s.name} dataKey={s.value} fill={s.colour} stackId={s.stack} isAnimationActive={false} maxBarSize={28} />
          ),
        )}
      </ComposedChart>
    </div>
  );
}

function ChartTooltip<Row extends { day: string }>({ active, payload, series, total }: TooltipContentProps & { series: Series<Row>[]; total?: (row: Row) => ReactNode }) {
  if (!active || !payload?.length) return null;
  const row = payload[0]!.payload as Row;
  return (
    <div className="chart-tooltip">
      <div className="chart-tooltip-day">{formatDayLong(row.day)}</div>
      <table>
        <tbody>
          {series.map((s) => (
            <tr key={s.name}>
              <td>
                <span className="chart-swatch" style={{ background: s.colour }} aria-hidden />
                {s.name}
              </td>
              <td>{s.display(row)}</td>
            </tr>
          ))}
          {total && (
            <tr className="chart-tooltip-total">
              <td>Total</td>
              <td>{total(row)}</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
