import { DomainError } from '../errors';

export const platformDepleted = () =>
  new DomainError('PRECONDITION_FAILED', 'PLATFORM_CREDITS_DEPLETED', 'The monthly allowance is spent and the platform credit pools cannot pay right now. Try again later.');

export const unknownPool = (provider: string) => new DomainError('NOT_FOUND', 'NOT_FOUND', `No credit pool for provider ${provider}.`);
