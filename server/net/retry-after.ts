/** No receiver (a provider, Slack, an SMS gateway) sends us away for longer than this, whatever its Retry-After says. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * A Retry-After header (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) as milliseconds from
 * `now`, capped at an hour so a misbehaving receiver cannot take itself out of routing or delivery for days;
 * null when absent or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
