import { createHash } from 'node:crypto';

/** Fingerprint of a request's meaningful input: the same idempotency key must come with the same one. */
export function requestHash(operation: string, input: Record<string, unknown>): string {
  const canonical = JSON.stringify([
    operation,
    Object.keys(input)
      .sort()
      .map((k) => [k, input[k] ?? null]),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/**
 * A request's fingerprint bound to the API key that sent it, for records that have no column of
 * their own for the key (consume entries, enhance.run claims): the same idempotency key and input
 * from another key is another request, so its replay is a conflict, never the first key's result
 * (ADR 029). Without a key (the server's own callers) it is the fingerprint alone, as before.
 */
export function boundToCaller(hash: string, apiKeyId: string | null | undefined): string {
  return apiKeyId ? createHash('sha256').update(`${hash}:key:${apiKeyId}`).digest('hex').slice(0, 32) : hash;
}

/**
 * How long a record fingerprinted without a key (written before keys were bound) still answers a
 * keyed replay of the same input: a retry spanning the upgrade gets its first result rather than a
 * conflict (which a client could take for a failure and retry under a new key, charging twice).
 * After that such a record answers no API key.
 */
export const UNBOUND_REPLAY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Whether a prior record under an idempotency key is this very request: its stored fingerprint is
 * `bound` (the input's `hash` bound to the caller's key), or, within the window, the unbound `hash`
 * of a record from before keys were bound.
 */
export function sameRequest(prior: { requestHash: string | null; createdAt: Date }, hash: string, bound: string, now = Date.now()): boolean {
  if (prior.requestHash === bound) return true;
  return bound !== hash && prior.requestHash === hash && prior.createdAt.getTime() > now - UNBOUND_REPLAY_WINDOW_MS;
}
