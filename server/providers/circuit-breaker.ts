import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type CircuitSettings = { failureThreshold: number; windowMs: number; cooldownMs: number; trialTimeoutMs: number };
export type Admission = 'closed' | 'trial' | 'open';
export type CircuitState = 'closed' | 'open' | 'half_open';

/** A per-provider circuit breaker; where its state lives decides who sees it. */
export interface CircuitBreaker {
  /** closed: go ahead; trial: the one request let through after the cool-down; open: skip. */
  admit(provider: string, now?: number): Promise<Admission>;
  onSuccess(provider: string, admission: Admission): Promise<void>;
  onFailure(provider: string, admission: Admission, now?: number): Promise<void>;
  /** The attempt said nothing about the provider (the caller's input was refused): a trial is handed back. */
  onNeutral(provider: string, admission: Admission): Promise<void>;
  state(provider: string, now?: number): Promise<CircuitState>;
  /** The provider asked us to stay away (Retry-After): the circuit stays open until at least `untilMs`. */
  holdOff(provider: string, untilMs: number): Promise<void>;
  /**
   * A health check's outcome. A failed check opens the circuit for the cool-down (then one trial
   * request may probe it, as after failures); a passing check closes a circuit that a failed check
   * opened, unless something kept it open since (a failed trial, a Retry-After).
   */
  onHealthCheck(provider: string, ok: boolean, now?: number): Promise<void>;
}

// KEYS: open-until, trial. ARGV: now, trial ttl. Atomic so that exactly one caller wins the trial.
const ADMIT = `
local openUntil = redis.call('GET', KEYS[1])
if not openUntil then return 'closed' end
if tonumber(openUntil) > tonumber(ARGV[1]) then return 'open' end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 'trial' end
return 'open'`;

// KEYS: failures, open-until. ARGV: window, threshold, open-until value.
const FAIL = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`;

// KEYS: open-until. ARGV: until. Only ever lengthens the opening.
const HOLD_OFF = `
local cur = redis.call('GET', KEYS[1])
if not cur or tonumber(cur) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 0`;

// KEYS: open-until, health-down. ARGV: until. The mark remembers which opening the failed check made.
const HEALTH_DOWN = `
local cur = redis.call('GET', KEYS[1])
local v = ARGV[1]
if cur and tonumber(cur) > tonumber(v) then v = cur end
redis.call('SET', KEYS[1], v)
redis.call('SET', KEYS[2], v)
return 0`;

// KEYS: open-until, trial, failures, health-down. Closes only the opening the failed check made.
const HEALTH_UP = `
local mark = redis.call('GET', KEYS[4])
if not mark then return 0 end
redis.call('DEL', KEYS[4])
if redis.call('GET', KEYS[1]) == mark then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return 1
end
return 0`;

/**
 * Shared by every server process through Redis. It fails open: while Redis is unreachable every
 * provider counts as closed (logged), so an outage of the breaker's store never stops the gateway.
 */
export class RedisCircuitBreaker implements CircuitBreaker {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly settings: CircuitSettings,
    private readonly log: Logger,
  ) {}

  /** Runs one Redis step, or answers `fallback` at once when Redis is not connected or the step fails. */
  private async failOpen<T>(what: string, fallback: T, step: () => Promise<T>): Promise<T> {
    try {
      // Not ready: fail now rather than wait in ioredis' offline queue for a reconnect.
      if (this.redis.status !== 'ready') throw new Error(`redis is ${this.redis.status}`);
      return await step();
    } catch (err) {
      this.log.warn({ err }, 'circuit breaker %s failed open', what);
      return fallback;
    }
  }

  private keys(provider: string) {
    const base = `${this.prefix}:circuit:${provider}`;
    return { openUntil: `${base}:open-until`, trial: `${base}:trial`, failures: `${base}:failures`, healthDown: `${base}:health-down` };
  }

  async admit(provider: string, now = Date.now()): Promise<Admission> {
    const k = this.keys(provider);
    return this.failOpen('admit', 'closed', async () => (await this.redis.eval(ADMIT, 2, k.openUntil, k.trial, now, this.settings.trialTimeoutMs)) as Admission);
  }

  async onSuccess(provider: string, admission: Admission): Promise<void> {
    const k = this.keys(provider);
    if (admission === 'trial') await this.failOpen('success', 0, () => this.redis.del(k.openUntil, k.trial, k.failures, k.healthDown));
  }

  async onFailure(provider: string, admission: Admission, now = Date.now()): Promise<void> {
    const k = this.keys(provider);
    if (admission === 'trial') {
      await this.failOpen('failure', null, () =>
        this.redis
          .multi()
          .set(k.openUntil, now + this.settings.cooldownMs)
          .del(k.trial)
          .exec(),
      );
      return;
    }
    await this.failOpen('failure', 0, () => this.redis.eval(FAIL, 2, k.failures, k.openUntil, this.settings.windowMs, this.settings.failureThreshold, now + this.settings.cooldownMs));
  }

  async onNeutral(provider: string, admission: Admission): Promise<void> {
    if (admission === 'trial') await this.failOpen('release', 0, () => this.redis.del(this.keys(provider).trial));
  }

  async holdOff(provider: string, untilMs: number): Promise<void> {
    await this.failOpen('hold-off', 0, () => this.redis.eval(HOLD_OFF, 1, this.keys(provider).openUntil, Math.round(untilMs)));
  }

  async onHealthCheck(provider: string, ok: boolean, now = Date.now()): Promise<void> {
    const k = this.keys(provider);
    if (ok) await this.failOpen('health', 0, () => this.redis.eval(HEALTH_UP, 4, k.openUntil, k.trial, k.failures, k.healthDown));
    else await this.failOpen('health', 0, () => this.redis.eval(HEALTH_DOWN, 2, k.openUntil, k.healthDown, now + this.settings.cooldownMs));
  }

  async state(provider: string, now = Date.now()): Promise<CircuitState> {
    const openUntil = await this.failOpen('state', null, () => this.redis.get(this.keys(provider).openUntil));
    if (!openUntil) return 'closed';
    return Number(openUntil) > now ? 'open' : 'half_open';
  }
}

/** The same rules in one process's memory, for running without Redis. */
export class MemoryCircuitBreaker implements CircuitBreaker {
  private readonly circuits = new Map<string, { failures: number[]; openUntil: number | null; trialUntil: number | null; healthMark: number | null }>();

  constructor(private readonly settings: CircuitSettings) {}

  private get(provider: string) {
    let c = this.circuits.get(provider);
    if (!c) this.circuits.set(provider, (c = { failures: [], openUntil: null, trialUntil: null, healthMark: null }));
    return c;
  }

  async admit(provider: string, now = Date.now()): Promise<Admission> {
    const c = this.get(provider);
    if (c.openUntil === null) return 'closed';
    if (c.openUntil > now) return 'open';
    if (c.trialUntil !== null && c.trialUntil > now) return 'open';
    c.trialUntil = now + this.settings.trialTimeoutMs;
    return 'trial';
  }

  async onSuccess(provider: string, admission: Admission): Promise<void> {
    if (admission === 'trial') this.circuits.delete(provider);
  }

  async onFailure(provider: string, admission: Admission, now = Date.now()): Promise<void> {
    const c = this.get(provider);
    if (admission === 'trial') {
      c.openUntil = now + this.settings.cooldownMs;
      c.trialUntil = null;
      return;
    }
    c.failures = [...c.failures.filter((t) => t > now - this.settings.windowMs), now];
    if (c.failures.length >= this.settings.failureThreshold) {
      c.openUntil = now + this.settings.cooldownMs;
      c.failures = [];
    }
  }

  async onNeutral(provider: string, admission: Admission): Promise<void> {
    if (admission === 'trial') this.get(provider).trialUntil = null;
  }

  async holdOff(provider: string, untilMs: number): Promise<void> {
    const c = this.get(provider);
    c.openUntil = Math.max(c.openUntil ?? 0, Math.round(untilMs));
  }

  async onHealthCheck(provider: string, ok: boolean, now = Date.now()): Promise<void> {
    const c = this.get(provider);
    if (!ok) {
      c.openUntil = Math.max(c.openUntil ?? 0, now + this.settings.cooldownMs);
      c.healthMark = c.openUntil;
      return;
    }
    if (c.healthMark !== null && c.healthMark === c.openUntil) this.circuits.delete(provider);
    else c.healthMark = null;
  }

  async state(provider: string, now = Date.now()): Promise<CircuitState> {
    const c = this.circuits.get(provider);
    if (!c || c.openUntil === null) return 'closed';
    return c.openUntil > now ? 'open' : 'half_open';
  }
}
