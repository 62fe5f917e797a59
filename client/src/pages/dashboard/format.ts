const pad = (n: number) => String(n).padStart(2, '0');

/** `13:32:05` in the viewer's time zone. */
export function formatClock(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const percentFormat = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });
/** 0.9876 → `98.8%`. */
export const formatRate = (rate: number) => percentFormat.format(rate);
