import { formatCount } from '../../components/Amount';
import { fieldLabel } from '../../../../shared/field-messages';

/**
 * A job's result as a sentence a person reads (`0 holds released · 2 bonus grants expired`), per
 * job; a job this page does not know gets its fields as words. Never JSON.
 */
type Result = Record<string, unknown>;

const n = (v: unknown) => (typeof v === 'number' ? v : 0);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const count = (value: number, one: string, many = `${one}s`) => `${formatCount(value)} ${value === 1 ? one : many}`;

function bytes(b: number): string {
  if (b < 1024) return `${formatCount(b)} B`;
  if (b < 1024 ** 2) return `${(b / 1024).toFixed(1)} KB`;
  return `${(b / 1024 ** 2).toFixed(1)} MB`;
}

type Drift = { provider: string; drift: number | null; error: string | null };

const summaries: Record<string, (r: Result) => string> = {
  'reset-monthly-credits': (r) => `${count(n(r.usersReset), 'user')} given this month's allowance`,
  'provider-health-check': (r) => {
    const unhealthy = list(r.unhealthy);
    const checked = count(n(r.checked), 'provider');
    return unhealthy.length ? `${checked} checked; unhealthy: ${unhealthy.join(', ')}` : `${checked} checked, all healthy`;
  },
  'expire-reservations': (r) => `${count(n(r.holdsReleased), 'hold')} released · ${count(n(r.grantsExpired), 'bonus grant')} expired`,
  'auto-refill': (r) => (n(r.processed) ? `${count(n(r.processed), 'refill')} bought or settled` : 'no approved refills were due'),
  'cleanup-sessions': (r) => `${count(n(r.sessions), 'expired session')} and ${count(n(r.jobRuns), 'old job run')} deleted`,
  'cleanup-media': (r) => (n(r.removed) ? `${count(n(r.removed), 'image')} deleted, ${bytes(n(r.freedBytes))} freed` : 'no images old enough to delete'),
  'check-credit-thresholds': (r) => {
    const raised = list(r.raised).map((a) => {
      const [type = a, subject] = a.split(':');
      return subject ? `${fieldLabel(type).toLowerCase()} (${subject})` : fieldLabel(type).toLowerCase();
    });
    return raised.length ? `${count(raised.length, 'alert')} raised: ${raised.join(', ')}` : 'no new alerts';
  },
  'deliver-alerts': (r) => {
    const routed = n(r.routed);
    const sent = `${formatCount(n(r.sent))} sent · ${formatCount(n(r.retrying))} retrying · ${formatCount(n(r.failed))} failed`;
    const routing = routed ? `${count(routed, 'alert')} routed to ${count(n(r.deliveries), 'channel')}${n(r.suppressed) ? ` (${formatCount(n(r.suppressed))} held back by cool-down)` : ''} · ` : '';
    return `${routing}${sent}`;
  },
  'daily-usage-summary': (r) => {
    const backfilled = list(r.backfilled);
    return `summarised ${typeof r.day === 'string' ? r.day : 'yesterday'}${backfilled.length ? `; filled in ${count(backfilled.length, 'missed day')}` : ''}`;
  },
  'usage-rollup': (r) => (n(r.bucketsRolled) ? `${count(n(r.bucketsRolled), 'quarter-hour')} of ${typeof r.day === 'string' ? r.day : 'today'} rolled up` : 'no closed quarter-hour was waiting'),
  'smart-reallocation': (r) => {
    const moved = n(r.creditsReallocated)
      ? `${count(n(r.creditsReallocated), 'idle credit')} from ${count(n(r.usersReallocated), 'user')} moved to ${typeof r.pool === 'string' && r.pool ? `the ${r.pool} pool` : 'the platform pool'}`
      : 'no idle allowances to move';
    return `${count(n(r.upgradeSuggestions), 'upgrade suggestion')} · ${moved}`;
  },
};

/** provider-balance-check returns one entry per http-billed pool. */
function balanceCheck(drifts: Drift[]): string {
  if (drifts.length === 0) return 'no http-billed pools to check';
  const problems = drifts.flatMap((d) => (d.error ? [`${d.provider}: balance unreadable`] : d.drift ? [`${d.provider} off by ${count(Math.abs(d.drift), 'credit')}`] : []));
  return `${count(drifts.length, 'pool')} checked${problems.length ? `; ${problems.join(', ')}` : ', all match'}`;
}

/** Any other result: its fields as words, lists as counts, nested objects left out. */
function generic(result: unknown): string | null {
  // A result is JSON: anything but an object or array is a scalar that reads as itself.
  if (typeof result === 'string' || typeof result === 'number' || typeof result === 'boolean' || result === undefined) return String(result);
  if (Array.isArray(result)) return count(result.length, 'item');
  const parts = Object.entries(result as Result).flatMap(([k, v]) => {
    const label = fieldLabel(k).toLowerCase();
    if (typeof v === 'number') return [`${label} ${formatCount(v)}`];
    if (typeof v === 'string' || typeof v === 'boolean') return [`${label} ${String(v)}`];
    if (Array.isArray(v)) return [`${label} ${formatCount(v.length)}`];
    return [];
  });
  return parts.length ? parts.join(' · ') : null;
}

export function describeResult(jobName: string, result: unknown): string | null {
  if (result === null || result === undefined) return null;
  if (jobName === 'provider-balance-check' && Array.isArray(result)) return balanceCheck(result as Drift[]);
  const summary = summaries[jobName];
  if (summary && typeof result === 'object' && !Array.isArray(result)) return summary(result as Result);
  return generic(result);
}
