import type { ErrorReason } from '../shared/enums';

export type DomainErrorCode = 'BAD_REQUEST' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'PRECONDITION_FAILED' | 'TOO_MANY_REQUESTS';

/**
 * A refusal the domain means to make: the tRPC layer turns it into an error of `code`
 * whose `data.reason` is the stable `reason` from the public contract.
 */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    readonly reason: ErrorReason,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
