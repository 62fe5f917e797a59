/**
 * Whether two configured URLs send to the same place: scheme, host and port (a path change on the
 * same API is not a new destination; http instead of https is, since the secret would travel in clear).
 */
export function sameOrigin(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return a === b;
  }
}

/** Host names compare case-insensitively; an IPv6 literal with or without its brackets is the same host. */
export const sameHost = (a: string, b: string) => a.replace(/^\[|\]$/g, '').toLowerCase() === b.replace(/^\[|\]$/g, '').toLowerCase();
