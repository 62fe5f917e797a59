import { TRPCClientError } from '@trpc/client';

/** The shape our server's errorFormatter puts in `error.data` (see server/trpc/init.ts). */
export type ServerErrorData = {
  code?: string;
  httpStatus?: number;
  reason?: string;
  details?: Record<string, unknown> | null;
  fields?: string[] | null;
};

export const SERVER_FAILURE = 'Something went wrong on the server. Try again.';
export const NETWORK_FAILURE = 'Cannot reach the server. Check your connection and try again.';

function dataOf(error: unknown): ServerErrorData | null {
  if (!(error instanceof TRPCClientError)) return null;
  const data: unknown = error.data;
  return data && typeof data === 'object' ? (data as ServerErrorData) : null;
}

/** The tRPC error code (UNAUTHORIZED, FORBIDDEN, …) or null when the error did not come from the server. */
export function errorCode(error: unknown): string | null {
  return dataOf(error)?.code ?? null;
}

/** The stable refusal reason (`data.reason`), e.g. TOO_MANY_REQUESTS or INSUFFICIENT_CREDITS. */
export function errorReason(error: unknown): string | null {
  return dataOf(error)?.reason ?? null;
}

export function errorDetails(error: unknown): Record<string, unknown> | null {
  return dataOf(error)?.details ?? null;
}

/** Field paths that failed server-side validation, if any. */
export function errorFields(error: unknown): string[] {
  return dataOf(error)?.fields ?? [];
}

/**
 * A message fit to show a person: the server's own message for refusals (they are written for
 * people, and zod errors arrive as "field: problem"), a fixed sentence for server failures, and
 * never a stack trace, JSON or a browser's fetch error.
 */
export function errorMessage(error: unknown): string {
  if (error == null) return '';
  if (error instanceof TRPCClientError) {
    const data = dataOf(error);
    if (!data) {
      // No tRPC error body: the request never reached the server, or something in between answered.
      return NETWORK_FAILURE;
    }
    if (data.code === 'INTERNAL_SERVER_ERROR' || (data.httpStatus ?? 0) >= 500) return SERVER_FAILURE;
    const message = typeof error.message === 'string' ? error.message.trim() : '';
    if (!message || looksRaw(message)) return SERVER_FAILURE;
    return message;
  }
  if (error instanceof TypeError) return NETWORK_FAILURE;
  return SERVER_FAILURE;
}

/** Guards against showing serialized JSON or a stack trace if one ever slips through. */
function looksRaw(message: string): boolean {
  return /^[[{]/.test(message) || /\n\s+at\s/.test(message) || message.length > 500;
}
