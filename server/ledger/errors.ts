import { DomainError } from '../errors';

export const INSUFFICIENT_MESSAGE = 'Insufficient credits. Upgrade to Plus or Pro for AI enhancements.';

export const insufficientCredits = () => new DomainError('PRECONDITION_FAILED', 'INSUFFICIENT_CREDITS', INSUFFICIENT_MESSAGE);

const nextTier = { free: 'Plus', plus: 'Pro', pro: null } as const;

/** A tier's monthly overflow to the platform pool is spent: refused like a tier without pool access. */
export const overflowLimitReached = (tier: 'free' | 'plus' | 'pro', cap: number) => {
  const upgrade = nextTier[tier];
  return new DomainError(
    'PRECONDITION_FAILED',
    'OVERFLOW_LIMIT_REACHED',
    `This month's credits and the ${tier} tier's overflow of ${cap} credits are spent. ` + (upgrade ? `Upgrade to ${upgrade} for more AI enhancements.` : 'Credits renew at the start of next month.'),
    { tier, cap },
  );
};

export const unknownUser = (userId: string) => new DomainError('NOT_FOUND', 'UNKNOWN_USER', `Unknown user ${userId}: create it with users.upsert first.`);

export const idempotencyConflict = () => new DomainError('CONFLICT', 'IDEMPOTENCY_CONFLICT', 'This idempotency key was already used with a different request.');

/**
 * The same refusal where the key is bound to the API key that first used it (ADR 029): another
 * input, or another API key. It names nothing of the first request, nor which of the two it was.
 */
export const idempotencyKeyTaken = () =>
  new DomainError('CONFLICT', 'IDEMPOTENCY_CONFLICT', 'This idempotency key was already used with a different request or by another API key; use a new key for a new request.');

/** Thrown inside a transaction to roll it back when its idempotency key turns out to be taken. */
export class ReplayDetected extends Error {
  constructor() {
    super('idempotency key already recorded');
  }
}
