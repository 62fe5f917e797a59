import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { DbOrTx } from '../db/client';

/** How often counted calls are written. A crash loses at most this much of the counts. */
export const USAGE_FLUSH_MS = 1_000;
/** last_used_at moves at most this often per key (a busy key must not rewrite its row each flush). */
const TOUCH_EVERY_MS = 60_000;

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** A Postgres array literal of values that need no quoting (uuids, dates, integers). */
const arrayLiteral = (values: (string | number)[]) => `{${values.join(',')}}`;

/**
 * Authorised calls per key per UTC day, counted in memory and written about once a second in one
 * set-based upsert for all keys (no row lock per request: 64 clients on one key used to queue on
 * its usage row). last_used_at rides in the same statement, at most once a minute per key.
 */
export class ApiKeyUsage {
  private counts = new Map<string, { keyId: string; day: string; calls: number }>();
  private touch = new Set<string>();
  private readonly touchedAt = new Map<string, number>();
  private day = '';
  private dayEnds = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: DbOrTx,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), USAGE_FLUSH_MS);
    this.timer.unref();
  }

  /** One authorised call of `keyId`, now. */
  count(keyId: string): void {
    const now = this.now();
    if (now >= this.dayEnds) {
      this.day = utcDay(now);
      this.dayEnds = Date.parse(`${this.day}T00:00:00.000Z`) + 86_400_000;
    }
    const slot = `${keyId}|${this.day}`;
    const entry = this.counts.get(slot);
    if (entry) entry.calls += 1;
    else this.counts.set(slot, { keyId, day: this.day, calls: 1 });
    if (now - (this.touchedAt.get(keyId) ?? -Infinity) >= TOUCH_EVERY_MS) {
      this.touchedAt.set(keyId, now);
      this.touch.add(keyId);
    }
  }

  /** Writes what was counted so far; resolves once it is in the database (tests and shutdown await it). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.counts.size === 0 && this.touch.size === 0) return;
    const counts = [...this.counts.values()].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : a.day < b.day ? -1 : 1));
    const touch = [...this.touch].sort();
    this.counts = new Map();
    this.touch = new Set();
    try {
      // Rows in one order in every process, so concurrent flushes never deadlock on each other.
      await this.db.execute(sql`
        with counted as (
          insert into api_key_usage_daily (api_key_id, day, calls)
          select u.api_key_id, u.day, u.calls
          from unnest(${arrayLiteral(counts.map((c) => c.keyId))}::uuid[], ${arrayLiteral(counts.map((c) => c.day))}::date[], ${arrayLiteral(counts.map((c) => c.calls))}::int[])
            as u(api_key_id, day, calls)
          join api_keys k on k.id = u.api_key_id
          order by u.api_key_id, u.day
          on conflict (api_key_id, day) do update set calls = api_key_usage_daily.calls + excluded.calls
        )
        update api_keys set last_used_at = now()
        where id = any(${arrayLiteral(touch)}::uuid[]) and (last_used_at is null or last_used_at < now() - interval '1 minute')`);
    } catch (err) {
      // Kept for the next flush: counts are analytics, but a failed write is no reason to lose them.
      for (const c of counts) {
        const slot = `${c.keyId}|${c.day}`;
        const entry = this.counts.get(slot);
        if (entry) entry.calls += c.calls;
        else this.counts.set(slot, c);
      }
      for (const id of touch) this.touch.add(id);
      this.log.warn({ err }, 'could not write API key usage; retrying at the next flush');
    }
  }

  /** Stops the timer and writes the rest (the server's close path). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
