import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../errors';
import { sharedLimiter, tryConsume } from './rate-limit';

export type EnhanceLimits = { perUser: number; perKey: number };

/**
 * enhance.* calls a minute, per end user and per API key, shared through Redis (this process's
 * memory while Redis is away). Every call costs the server a fetch, a decode and maybe a write to
 * /media even when nobody pays for it (a degraded answer), so the count is taken before any work.
 */
export class EnhanceRequestLimit {
  private readonly byUser: RateLimiterAbstract;
  private readonly byKey: RateLimiterAbstract;

  constructor(
    redis: Redis | null,
    prefix: string,
    limits: EnhanceLimits,
    private readonly log: Logger,
  ) {
    this.byUser = sharedLimiter(redis, { keyPrefix: `${prefix}:ratelimit:enhance:user`, points: limits.perUser, duration: 60 });
    this.byKey = sharedLimiter(redis, { keyPrefix: `${prefix}:ratelimit:enhance:key`, points: limits.perKey, duration: 60 });
  }

  /** Refuses with TOO_MANY_REQUESTS when the key's or the user's minute is spent. */
  async take(apiKeyId: string, userId: string): Promise<void> {
    for (const [limiter, key, who] of [
      [this.byKey, apiKeyId, 'this API key'],
      [this.byUser, userId, 'this user'],
    ] as const) {
      const taken = await tryConsume(limiter, key, this.log);
      if (taken !== true) {
        const retryAfterSeconds = Math.max(1, Math.ceil(taken.msBeforeNext / 1000));
        throw new DomainError('TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', `Too many enhancements for ${who}. Try again in ${retryAfterSeconds} seconds.`, {
          retryAfterSeconds,
        });
      }
    }
  }
}
