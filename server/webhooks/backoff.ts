/** Retries stop this long after a delivery was made (or replayed); an endpoint failing this long is disabled. */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 3600_000;

const BASE_MS = 30_000;
const CAP_MS = 6 * 3600_000;

/**
 * The wait after the `attempt`-th failed attempt: 30 s doubling up to 6 h, with "equal jitter"
 * (half fixed, half random) so endpoints that failed together do not retry together. About 15
 * attempts fit in the 24 h window.
 */
export function webhookRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
