import type { z } from 'zod';
import type { trendSchema } from '../../../../shared/analytics';

type Trend = z.infer<typeof trendSchema>;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. Text
 * that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe;
 * numbers, including negative ones, are left alone.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvLine = (fields: (string | number | null | undefined)[]) => fields.map(csvField).join(',');

const baseColumns = ['day', 'requests', 'successful_requests', 'failed_requests', 'success_rate', 'credits', 'allowance_credits', 'platform_credits', 'cost_usd'];

/** The header: the day's figures, then for a split three columns per split value (`provider:fal:requests`, …). */
export function trendCsvHeader(trend: Trend): string[] {
  const split = trend.split === 'none' ? [] : trend.splitValues.flatMap((v) => [`${trend.split}:${v}:requests`, `${trend.split}:${v}:credits`, `${trend.split}:${v}:cost_usd`]);
  return [...baseColumns, ...split];
}

/**
 * Exactly the rows the trend shows, one per day: counts as integers, money as the server's decimal
 * strings (never through a float), the success rate as a fraction, empty when there were no requests.
 */
export function trendCsv(trend: Trend): string {
  const lines = [csvLine(trendCsvHeader(trend))];
  for (const p of trend.points) {
    const split =
      trend.split === 'none'
        ? []
        : trend.splitValues.flatMap((v) => {
            const s = p.split[v];
            return [s?.requests ?? 0, s?.credits ?? 0, s?.costUsd ?? '0'];
          });
    lines.push(csvLine([p.day, p.totalRequests, p.successfulRequests, p.failedRequests, p.successRate, p.creditsConsumed, p.allowanceCredits, p.platformCredits, p.costUsd, ...split]));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function trendCsvFileName(trend: Trend): string {
  const first = trend.points[0]?.day ?? 'empty';
  const last = trend.points.at(-1)?.day ?? 'empty';
  return `usage-${first}-${last}-${trend.split}.csv`;
}

/** Saves text as a file through a temporary object URL. */
export function downloadText(fileName: string, text: string, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Give the browser the time to start the download before the URL goes.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
