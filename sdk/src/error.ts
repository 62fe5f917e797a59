import type { ErrorBody, ErrorReason } from './types.js';

const isErrorBody = (body: unknown): body is ErrorBody => typeof body === 'object' && body !== null && typeof (body as ErrorBody).error?.data?.reason === 'string';

/**
 * A refused or failed call. Branch on `reason`; `message` is for people. An answer that is not
 * Creditdesk's error shape (a proxy's error page, say) has the reason `UNEXPECTED_RESPONSE`.
 */
export class CreditdeskError extends Error {
  override readonly name = 'CreditdeskError';
  readonly reason: ErrorReason | 'UNEXPECTED_RESPONSE';
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The error body as sent, when it had Creditdesk's shape. */
  readonly body: ErrorBody | null;

  constructor(status: number, body: unknown) {
    const shaped = isErrorBody(body) ? body : null;
    super(shaped?.error.message ?? `Unexpected answer (HTTP ${status}) from Creditdesk.`);
    this.status = status;
    this.body = shaped;
    this.reason = shaped?.error.data.reason ?? 'UNEXPECTED_RESPONSE';
  }

  /** Facts a domain refusal adds, e.g. a balance; null when it adds none. */
  get details(): Record<string, unknown> | null {
    return (this.body?.error.data.details as Record<string, unknown> | null | undefined) ?? null;
  }
}
