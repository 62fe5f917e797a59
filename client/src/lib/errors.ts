import { TRPCClientError } from '@trpc/client';
import { fieldLabel } from '../../../shared/field-messages';

/** The shape our server's errorFormatter puts in `error.data` (see server/trpc/init.ts). */
export type ServerErrorData = {
  code?: string;
  httpStatus?: number;
  reason?: string;
  details?: Record<string, unknown> | null;
  fields?: string[] | null;
  /** Each failing field's problem in plain words, keyed by its path (see server/trpc/init.ts). */
  fieldErrors?: Record<string, string> | null;
};

export const SERVER_FAILURE = 'Something went wrong on the server. Try again.';
export const NETWORK_FAILURE = 'Cannot reach the server. Check your connection and try again.';

function dataOf(error: unknown): ServerErrorData | null {
  if (!(error instanceof TRPCClientError)) return null;
  const data: unknown = error.data;
  return data && typeof data === 'object' ? data : null;
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
 * The server's field errors keyed by top-level field, as the forms key theirs (`range.from` →
 * `range`), so a form can show them under its fields: `onError: (e) => setErrors(serverFieldErrors(e))`.
 */
export function serverFieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(dataOf(error)?.fieldErrors ?? {})) out[path.split('.')[0]!] ??= message;
  return out;
}

/**
 * The error to show above a form, or null when every problem already shows under its field
 * (`shown` holds the form's field errors).
 */
export function formAlert(error: unknown, shown: Record<string, string | undefined>): string | null {
  if (error == null) return null;
  const fields = Object.keys(serverFieldErrors(error));
  if (fields.length && fields.every((f) => shown[f])) return null;
  return errorMessage(error);
}

/**
 * A message fit to show a person: the server's own message for refusals (they are written for
 * people), field errors as "Label: problem" (never a field path such as currentPassword), a fixed
 * sentence for server failures, and never a stack trace, JSON or a browser's fetch error.
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
    // Input validation: the server's message names paths for API callers; people get labels.
    if (data.fields?.length && data.fieldErrors) {
      return Object.entries(data.fieldErrors)
        .map(([path, message]) => `${fieldLabel(path)}: ${/^[A-Z][a-z]/.test(message) ? message[0]!.toLowerCase() + message.slice(1) : message}`)
        .join('. ');
    }
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
