import { DomainError } from '../errors';

export const INSUFFICIENT_MESSAGE = 'Insufficient credits. Upgrade to Plus or Pro for AI enhancements.';

export const insufficientCredits = () => new DomainError('PRECONDITION_FAILED', 'INSUFFICIENT_CREDITS', INSUFFICIENT_MESSAGE);

export const unknownUser = (userId: string) =>
  new DomainError('NOT_FOUND', 'UNKNOWN_USER', `Unknown user ${userId}: create it with users.upsert first.`);

export const idempotencyConflict = () =>
  new DomainError('CONFLICT', 'IDEMPOTENCY_CONFLICT', 'This idempotency key was already used with a different request.');

/** Thrown inside a transaction to roll it back when its idempotency key turns out to be taken. */
export class ReplayDetected extends Error {
  constructor() {
    super('idempotency key already recorded');
  }
}
