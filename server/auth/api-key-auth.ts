import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ApiKeyScope } from '../../shared/enums';
import type { DbHandle } from '../db/client';
import { ApiKeyCache } from './api-key-cache';
import { KeyChanges, type Announced, type KeyChangeTiming } from './api-key-changes';
import { ApiKeyUsage } from './api-key-usage';
import { checkApiKey, findApiKeyByHash, isApiKeySecret, UNKNOWN_KEY, type KeyCheck } from './api-keys';
import { sha256 } from './tokens';

/** A record read from api_keys is served from memory this long at most (the bound when a drop is lost unnoticed). */
export const KEY_CACHE_TTL_MS = 10_000;
export const KEY_CACHE_MAX_ENTRIES = 10_000;

export type ApiKeyAuthOptions = {
  dbHandle: DbHandle;
  redis: Redis | null;
  redisPrefix: string;
  log: Logger;
  ttlMs?: number;
  maxEntries?: number;
  timing?: KeyChangeTiming;
};

/**
 * The API-key check of every product-app request, one per process (ADR 015): keys from memory
 * (ApiKeyCache), kept fresh across processes by KeyChanges, and calls counted in memory and
 * written once a second (ApiKeyUsage). A cache hit costs a hash and a map lookup, no I/O.
 */
export class ApiKeyAuth {
  readonly cache: ApiKeyCache;
  readonly changes: KeyChanges;
  readonly usage: ApiKeyUsage;

  constructor(private readonly opts: ApiKeyAuthOptions) {
    this.cache = new ApiKeyCache({ ttlMs: opts.ttlMs ?? KEY_CACHE_TTL_MS, maxEntries: opts.maxEntries ?? KEY_CACHE_MAX_ENTRIES });
    this.changes = new KeyChanges({ redis: opts.redis, redisPrefix: opts.redisPrefix, dbHandle: opts.dbHandle, log: opts.log, cache: this.cache, timing: opts.timing });
    this.usage = new ApiKeyUsage(opts.dbHandle.db, opts.log);
  }

  async start(): Promise<void> {
    this.usage.start();
    await this.changes.start();
  }

  /**
   * The key behind a bearer secret. A live key holding `scope` has the call counted; refused keys
   * (unknown, revoked, expired, rotated out) and calls outside the key's scopes are counted nowhere.
   */
  async check(secret: string, scope: ApiKeyScope): Promise<KeyCheck> {
    if (!isApiKeySecret(secret)) return { ok: false, message: UNKNOWN_KEY };
    const hash = sha256(secret);
    let record = this.cache.get(hash);
    if (!record) {
      const generation = this.cache.begin();
      const found = await findApiKeyByHash(this.opts.dbHandle.db, hash);
      if (!found) return { ok: false, message: UNKNOWN_KEY };
      this.cache.set(hash, found, generation);
      record = found;
    }
    const check = checkApiKey(record, Date.now());
    if (check.ok && record.scopes.includes(scope)) this.usage.count(record.id);
    return check;
  }

  /**
   * Call after a change to a key (revocation, rotation, scopes) has COMMITTED: this process forgets
   * the key before it returns, and every other live process confirms it has too (bounded wait).
   */
  changed(keyId: string): Promise<Announced> {
    return this.changes.announce(keyId);
  }

  /** Stops listening and writes the calls counted so far (the close path of server and worker). */
  async close(): Promise<void> {
    await this.changes.close();
    await this.usage.close();
  }
}
