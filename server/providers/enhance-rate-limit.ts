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

  /**
   * Refuses with TOO_MANY_REQUESTS when the key's or the user's minute is spent. Both are counted at
   * once (one Redis round trip of waiting, not two): a refused call counts against both, as a
   * refused call already counted against the limit that refused it.
   */
  async take(apiKeyId: string, userId: string): Promise<void> {
    const taken = await Promise.all([tryConsume(this.byKey, apiKeyId, this.log), tryConsume(this.byUser, userId, this.log)]);
    for (const [i, who] of ['this API key', 'this user'].entries()) {
      const t = taken[i]!;
      if (t !== true) {
        const retryAfterSeconds = Math.max(1, Math.ceil(t.msBeforeNext / 1000));
        throw new DomainError('TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', `Too many enhancements for ${who}. Try again in ${retryAfterSeconds} seconds.`, {
          retryAfterSeconds,
        });
      }
    }
  }
}
