import type { ApiKeyRecord } from './api-keys';

export type ApiKeyCacheOptions = {
  /** How long a record read from api_keys is served without reading it again. */
  ttlMs: number;
  /** The most records held; past it the oldest is dropped (memory stays bounded whatever secrets arrive). */
  maxEntries: number;
  now?: () => number;
};

/**
 * Known keys by secret hash, in this process's memory: a hit costs a map lookup and no I/O.
 *
 * Only keys that exist are held (an unknown secret is read again each time, so a key created a
 * moment ago works at once and guessed secrets cannot push real keys out). Records carry the key's
 * times, not a verdict: expiry and rotation grace are judged at each request.
 *
 * Changes arrive through `dropKey` (a revocation, rotation or scope change, from this process or
 * any other: server/auth/api-key-changes.ts) and `trustUntil`/`distrust` (whether those drops can
 * currently reach this process). While they cannot, nothing is served from memory.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { record: ApiKeyRecord; until: number }>();
  /** Moved by every drop: a read that began before a drop never stores what the drop removed. */
  private generation = 0;
  private trustedUntil = 0;
  private readonly now: () => number;

  constructor(private readonly opts: ApiKeyCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get trusted(): boolean {
    return this.now() < this.trustedUntil;
  }

  get(hash: string): ApiKeyRecord | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    const now = this.now();
    if (now >= this.trustedUntil) return undefined;
    if (entry.until <= now) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.record;
  }

  /** Taken before reading api_keys, handed back to `set` with what the read found. */
  begin(): number {
    return this.generation;
  }

  set(hash: string, record: ApiKeyRecord, generation: number): void {
    const now = this.now();
    if (generation !== this.generation || now >= this.trustedUntil) return;
    if (this.entries.has(hash)) this.entries.delete(hash);
    else if (this.entries.size >= this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(hash, { record, until: now + this.opts.ttlMs });
  }

  /** Forgets every secret of one key (its current and replaced ones, and any read in flight). */
  dropKey(id: string): void {
    this.generation += 1;
    for (const [hash, entry] of this.entries) if (entry.record.id === id) this.entries.delete(hash);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  /** The change channel is known to work until `at` (ms): serve from memory until then. */
  trustUntil(at: number): void {
    this.trustedUntil = at;
  }

  /** The change channel is down: drops may be missed, so forget everything and read each request. */
  distrust(): void {
    this.trustedUntil = 0;
    this.clear();
  }
}
