import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../errors';

export type LoginThrottleOptions = { maxFailures: number; windowSeconds: number; redis: Redis | null; prefix: string };

/**
 * Counts failed logins per email and per address (an address gets four times the email's allowance,
 * since several people may share one). Shared across processes through Redis when there is one,
 * and held in memory when there is not (then each process counts alone).
 */
export class LoginThrottle {
  private readonly byEmail: RateLimiterAbstract;
  private readonly byAddress: RateLimiterAbstract;

  constructor(opts: LoginThrottleOptions) {
    const make = (keyPrefix: string, points: number) => {
      const base = { keyPrefix: `${opts.prefix}:login:${keyPrefix}`, points, duration: opts.windowSeconds };
      const memory = new RateLimiterMemory(base);
      return opts.redis ? new RateLimiterRedis({ ...base, storeClient: opts.redis, insuranceLimiter: memory }) : memory;
    };
    this.byEmail = make('email', opts.maxFailures);
    this.byAddress = make('ip', opts.maxFailures * 4);
  }

  /** Refuses before any password is checked when either counter is spent. */
  async assertAllowed(email: string, address: string): Promise<void> {
    const [e, a] = await Promise.all([this.byEmail.get(email), this.byAddress.get(address)]);
    const blocked = [
      e && e.consumedPoints >= this.byEmail.points ? e : null,
      a && a.consumedPoints >= this.byAddress.points ? a : null,
    ].filter((r): r is RateLimiterRes => r !== null);
    if (blocked.length > 0) throw tooMany(Math.max(...blocked.map((r) => r.msBeforeNext)));
  }

  async recordFailure(email: string, address: string): Promise<void> {
    await Promise.all([
      this.byEmail.penalty(email, 1),
      this.byAddress.penalty(address, 1),
    ]);
  }

  async recordSuccess(email: string): Promise<void> {
    await this.byEmail.delete(email);
  }
}

function tooMany(msBeforeNext: number): DomainError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new DomainError(
    'TOO_MANY_REQUESTS',
    'TOO_MANY_REQUESTS',
    `Too many failed sign-in attempts. Try again in ${retryAfterSeconds} seconds.`,
    { retryAfterSeconds },
  );
}
