const pad = (n: number) => String(n).padStart(2, '0');

/** `13:32:05` in the viewer's time zone. */
export function formatClock(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const percentFormat = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });
/** 0.9876 → `98.8%`: every success rate (a 0–1 fraction on the wire) is shown this way. */
export const formatRate = (rate: number) => percentFormat.format(rate);
/** The colour of a provider's success rate, the same on every page. */
export const rateClass = (rate: number) => (rate < 0.9 ? 'balance-zero' : rate < 0.98 ? 'balance-low' : undefined);
