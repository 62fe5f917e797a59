import type { ReactNode } from 'react';
import { Bar, CartesianGrid, ComposedChart, Legend, Line, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';
import './charts.css';

/** Colours for series, in order; split values keep the server's (sorted) order, so a value keeps its colour. */
export const palette = ['#2f5fd0', '#1d9a6c', '#d9822b', '#8e5bd0', '#c4312b', '#1e8fae', '#b5a32a', '#d45d9c', '#5b6b7f', '#6fa83a'];
export const seriesColour = (i: number) => palette[i % palette.length]!;

const shortDay = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const longDay = new Intl.DateTimeFormat('en-US', { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

const utc = (day: string) => new Date(`${day}T00:00:00Z`);
/** `Nov 24` for an axis tick. */
export const formatDayShort = (day: string) => (/^\d{4}-\d{2}-\d{2}$/.test(day) ? shortDay.format(utc(day)) : day);
/** `Mon, Nov 24, 2025` for a tooltip. */
export const formatDayLong = (day: string) => (/^\d{4}-\d{2}-\d{2}$/.test(day) ? longDay.format(utc(day)) : day);
/** `1.2K` on an axis. */
export const formatCompact = (n: number) => compact.format(n);
/** `$1.2K`, `$0.35` on an axis (display only: the value was a decimal string). */
export const formatAxisUsd = (n: number) => (Math.abs(n) >= 1000 ? `$${compact.format(n)}` : `$${n.toFixed(n !== 0 && Math.abs(n) < 1 ? 2 : 0)}`);
export const formatAxisPercent = (n: number) => `${Math.round(n * 100)}%`;
/** A money string as a number for plotting only; never for arithmetic. */
export const plotUsd = (usd: string) => Number(usd) || 0;

export type Series<Row> = {
  name: string;
  colour: string;
  kind?: 'bar' | 'line';
  /** The right-hand axis (a second unit, e.g. USD next to counts). */
  right?: boolean;
  /** Dots on a line (a day between days without data has no line to show it). */
  dots?: boolean;
  /** Bars with the same stack id stack. */
  stack?: string;
  value: (row: Row) => number | null;
  /** The exact figure for the tooltip (money from its decimal string, not the plotted number). */
  display: (row: Row) => string;
};

type ChartProps<Row extends { day: string }> = {
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
export function DailyChart<Row extends { day: string }>({ data, series, height = 200, leftFormat = formatCompact, rightFormat, leftDomain, leftTicks, decimals = false, total, label }: ChartProps<Row>) {
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
        {hasRight && (
          <YAxis yAxisId="right" orientation="right" tickFormatter={rightFormat} tick={{ fontSize: 11, fill: '#7a828d' }} tickLine={false} axisLine={false} width={52} />
        )}
        <Tooltip
          isAnimationActive={false}
          cursor={{ fill: 'rgba(47, 95, 208, 0.06)' }}
          content={(props: TooltipContentProps) => <ChartTooltip {...props} series={series} total={total} />}
        />
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

function ChartTooltip<Row extends { day: string }>({
  active,
  payload,
  series,
  total,
}: TooltipContentProps & { series: Series<Row>[]; total?: (row: Row) => ReactNode }) {
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

/** A titled chart panel. */
export function ChartCard({ title, note, children, testId }: { title: string; note?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <figure className="chart-card" data-testid={testId}>
      <figcaption className="chart-card-header">
        <h3>{title}</h3>
        {note && <span className="chart-card-note">{note}</span>}
      </figcaption>
      {children}
    </figure>
  );
}
