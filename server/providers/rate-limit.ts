import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * Per-provider requests per minute. With Redis the count is shared by every server process;
 * without, each process counts alone (the single-instance mode).
 */
export class ProviderRateLimiter {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly redis: Redis | null,
    private readonly prefix: string,
  ) {}

  private limiter(provider: string, perMinute: number): RateLimiterAbstract {
    const id = `${provider}:${perMinute}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const opts = { keyPrefix: `${this.prefix}:ratelimit:provider:${perMinute}`, points: perMinute, duration: 60 };
      limiter = this.redis ? new RateLimiterRedis({ ...opts, storeClient: this.redis }) : new RateLimiterMemory(opts);
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  /** Takes one request from the provider's minute; false when the minute is used up. */
  async tryTake(provider: string, perMinute: number): Promise<boolean> {
    try {
      await this.limiter(provider, perMinute).consume(provider, 1);
      return true;
    } catch (err) {
      if (err instanceof Error) throw err;
      return false;
    }
  }
}
