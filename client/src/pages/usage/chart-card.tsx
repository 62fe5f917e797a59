import type { ReactNode } from 'react';
import './charts.css';

// Formatters, series and the card around a chart: no recharts here, so a page can show its figures
// and the charts' frames before the chart library (lazy-daily-chart.tsx) has loaded.

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
