import { formatCount } from '../../components/Amount';
import { formatDateTime, formatRelative } from '../../lib/format';

/** `in 3 min`, `in 5 h`, `in 12 d` for a time ahead; a past time reads like formatRelative. */
export function formatUntil(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '—';
  const s = Math.round((t - now) / 1000);
  if (s <= 0) return s > -45 ? 'now' : formatRelative(iso, now);
  if (s < 60) return `in ${s} s`;
  if (s < 3600) return `in ${Math.round(s / 60)} min`;
  if (s < 86_400) return `in ${Math.round(s / 3600)} h`;
  if (s < 60 * 86_400) return `in ${Math.round(s / 86_400)} d`;
  return formatDateTime(iso).slice(0, 10);
}

/** `35 ms`, `1.2 s`, `4 min 10 s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${formatCount(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m} min ${s} s` : `${m} min`;
}

const pad = (n: string) => n.padStart(2, '0');
const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const isNum = (s: string) => /^\d+$/.test(s);

/**
 * A plain reading of the common cron patterns (five fields, or six with seconds first) (`0 0 1 * *` → "monthly on day 1 at
 * 00:00"); null for anything else, which the raw expression then stands for alone.
 */
export function describeCron(expr: string | null): string | null {
  if (!expr) return null;
  let f = expr.trim().split(/\s+/);
  // Six fields: seconds first.
  if (f.length === 6) {
    const [sec, ...rest] = f as [string, ...string[]];
    const everySec = /^\*\/(\d+)$/.exec(sec);
    if (rest.every((x) => x === '*')) return sec === '*' ? 'every second' : everySec ? `every ${everySec[1]} seconds` : null;
    if (sec !== '0') return null;
    f = rest;
  }
  if (f.length !== 5) return null;
  const [min, hour, dom, mon, dow] = f as [string, string, string, string, string];
  if (mon !== '*') return null;
  if (min === '*' && hour === '*' && dom === '*' && dow === '*') return 'every minute';
  const every = /^\*\/(\d+)$/.exec(min);
  if (every && hour === '*' && dom === '*' && dow === '*') return `every ${every[1]} minutes`;
  if (isNum(min) && hour === '*' && dom === '*' && dow === '*') return `hourly at :${pad(min)}`;
  if (!isNum(min) || !isNum(hour)) return null;
  const at = `${pad(hour)}:${pad(min)}`;
  if (dom === '*' && dow === '*') return `daily at ${at}`;
  if (isNum(dom) && dow === '*') return `monthly on day ${Number(dom)} at ${at}`;
  if (dom === '*' && isNum(dow) && Number(dow) <= 7) return `${weekdays[Number(dow) % 7]}s at ${at}`;
  return null;
}
