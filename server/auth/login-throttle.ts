import type { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../errors';

export type LoginThrottleOptions = { maxFailures: number; windowSeconds: number; redis: Redis | null; prefix: string };

/**
 * What one guess is counted against: a `scope` (what is being guessed: `login`, `password`, a second
 * factor...), the `subject` guessed at (an email, an admin id) and the caller's address.
 */
export type ThrottleKey = { scope: string; subject: string; address: string };

/** A checked guess: `remaining` is how many more failures the tighter of the two counters allows. */
export type AttemptOutcome = { ok: true } | { ok: false; remaining: number };

type Counters = { bySubject: RateLimiterAbstract; byAddress: RateLimiterAbstract };

/**
 * What a caller's address is counted as: an IPv6 address by its /64 (one host or home is handed a
 * whole /64, and can send each guess from another address in it), an IPv4-mapped IPv6 address as
 * the IPv4 address it is; anything else as it is.
 */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return `${(parsed as ipaddr.IPv6).parts
    .slice(0, 4)
    .map((p) => p.toString(16))
    .join(':')}::/64`;
}

/**
 * Throttles guessing of secrets per subject and per address (an address gets four times the
 * subject's allowance, since several people may share one). Each guess takes its point atomically
 * before the secret is checked, so parallel or batched guesses cannot all pass a check made before
 * any of them is counted; a correct guess gets its point back. Shared across processes through
 * Redis when there is one, held in memory when there is not (then each process counts alone).
 */
export class LoginThrottle {
  private readonly counters = new Map<string, Counters>();

  constructor(private readonly opts: LoginThrottleOptions) {}

  /**
   * Counts one guess, then runs `check` (true when the secret was right). Throws TOO_MANY_REQUESTS,
   * without running `check`, when either counter is spent.
   */
  async attempt(key: ThrottleKey, check: () => Promise<boolean>): Promise<AttemptOutcome> {
    const { bySubject, byAddress } = this.countersFor(key.scope);
    const address = addressKey(key.address);
    const taken = await Promise.allSettled([bySubject.consume(key.subject), byAddress.consume(address)]);
    const refused = taken.filter((t): t is PromiseRejectedResult => t.status === 'rejected');
    if (refused.length > 0) {
      // A refused guess is not checked: give back the point the other counter did take.
      await Promise.all([taken[0].status === 'fulfilled' ? bySubject.reward(key.subject) : null, taken[1].status === 'fulfilled' ? byAddress.reward(address) : null]);
      const waits = refused.map((r) => {
        if (r.reason instanceof RateLimiterRes) return r.reason.msBeforeNext;
        throw r.reason;
      });
      throw tooMany(Math.max(...waits));
    }
    let ok: boolean;
    try {
      ok = await check();
    } catch (err) {
      // A check that could not run was no failed guess.
      await this.refund(bySubject, byAddress, key.subject, address);
      throw err;
    }
    if (ok) {
      await this.refund(bySubject, byAddress, key.subject, address);
      return { ok: true };
    }
    const left = (taken as PromiseFulfilledResult<RateLimiterRes>[]).map((t) => t.value.remainingPoints);
    return { ok: false, remaining: Math.min(...left) };
  }

  private async refund(bySubject: RateLimiterAbstract, byAddress: RateLimiterAbstract, subject: string, address: string) {
    await Promise.all([bySubject.reward(subject), byAddress.reward(address)]);
  }

  private countersFor(scope: string): Counters {
    let counters = this.counters.get(scope);
    if (!counters) {
      const make = (kind: string, points: number) => {
        const base = { keyPrefix: `${this.opts.prefix}:${scope}:${kind}`, points, duration: this.opts.windowSeconds };
        const memory = new RateLimiterMemory(base);
        return this.opts.redis ? new RateLimiterRedis({ ...base, storeClient: this.opts.redis, insuranceLimiter: memory }) : memory;
      };
      // `login:email` / `login:ip` keep the key names counters had before scopes existed.
      counters = { bySubject: make(scope === 'login' ? 'email' : 'subject', this.opts.maxFailures), byAddress: make('ip', this.opts.maxFailures * 4) };
      this.counters.set(scope, counters);
    }
    return counters;
  }
}

function tooMany(msBeforeNext: number): DomainError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new DomainError('TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', `Too many failed attempts. Try again in ${retryAfterSeconds} seconds.`, { retryAfterSeconds });
}
