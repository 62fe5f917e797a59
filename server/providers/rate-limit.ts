import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export type LimiterOptions = { keyPrefix: string; points: number; duration: number };

/**
 * A limiter shared by every server process through Redis, falling back to this process's memory
 * (counting alone) when Redis is not connected or a command fails, so a Redis outage never stops
 * the requests it limits.
 */
export function sharedLimiter(redis: Redis | null, opts: LimiterOptions): RateLimiterAbstract {
  const memory = new RateLimiterMemory(opts);
  return redis ? new RateLimiterRedis({ ...opts, storeClient: redis, insuranceLimiter: memory, rejectIfRedisNotReady: true }) : memory;
}

/**
 * Takes `points` for `key`: true when allowed, false when the limit is spent. Any other error
 * (both stores failing) lets the request through, logged: a limiter must not fail a request.
 */
export async function tryConsume(limiter: RateLimiterAbstract, key: string, log: Logger, points = 1): Promise<RateLimiterRes | true> {
  try {
    await limiter.consume(key, points);
    return true;
  } catch (err) {
    if (err instanceof RateLimiterRes) return err;
    log.warn({ err }, 'rate limiter failed open');
    return true;
  }
}

/** Per-provider requests per minute. With Redis the count is shared by every server process. */
export class ProviderRateLimiter {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly redis: Redis | null,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  private limiter(provider: string, perMinute: number): RateLimiterAbstract {
    const id = `${provider}:${perMinute}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = sharedLimiter(this.redis, { keyPrefix: `${this.prefix}:ratelimit:provider:${perMinute}`, points: perMinute, duration: 60 });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  /** Takes one request from the provider's minute; false when the minute is used up. */
  async tryTake(provider: string, perMinute: number): Promise<boolean> {
    return (await tryConsume(this.limiter(provider, perMinute), provider, this.log)) === true;
  }

  /** Returns a request taken for an attempt that did not go out (its circuit was open). */
  async giveBack(provider: string, perMinute: number): Promise<void> {
    try {
      await this.limiter(provider, perMinute).reward(provider, 1);
    } catch (err) {
      // The minute stays one request short until it ends: never a reason to fail the request.
      this.log.warn({ err }, 'provider rate limit could not take a request back');
    }
  }
}
