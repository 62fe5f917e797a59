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
