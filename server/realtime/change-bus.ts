import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DbHandle } from '../db/client';

/** The PostgreSQL channel of the no-Redis path (per database, so installations never mix). */
export const PG_CHANNEL = 'creditdesk_realtime';
export const redisChannel = (prefix: string) => `${prefix}:realtime`;
/** How long a process gathers "something committed" marks before one message says so. */
export const FLUSH_MS = 60;

/**
 * "Something committed here": a wake-up for every process's live hub, never the data itself (each
 * hub reads the committed rows, so a message can neither carry nor invent a rolled-back change).
 *
 * `changed()` is called after a commit (a mutation that succeeded, a job run that finished): it sets
 * a flag and nothing else, so the hot path (credits.consume) pays no I/O and no NOTIFY inside its
 * transaction (NOTIFY serialises commits on a global lock). A timer flushes the flag every FLUSH_MS
 * as ONE publish, through Redis pub/sub when Redis is configured, else `pg_notify` in its own
 * autocommit statement (PGlite included): at most ~16 messages a second per process under any load.
 */
export class ChangeBus {
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private subscriber: Redis | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private readonly listeners = new Set<() => void>();
  private closed = false;
  /** Messages this process published (tests and the bench read it). */
  published = 0;

  constructor(private readonly opts: { redis: Redis | null; redisPrefix: string; dbHandle: DbHandle; log: Logger; origin: string }) {}

  changed(): void {
    if (this.closed || this.dirty) return;
    this.dirty = true;
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    this.timer.unref?.();
  }

  /** Publishes now if anything was marked (the timer's job; tests call it to skip the wait). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    this.published += 1;
    try {
      if (this.opts.redis) await this.opts.redis.publish(redisChannel(this.opts.redisPrefix), this.opts.origin);
      else await this.opts.dbHandle.db.execute(sql`select pg_notify(${PG_CHANNEL}, ${this.opts.origin})`);
    } catch (err) {
      // Lost wake-ups cost latency only: every hub also polls on its own (LiveHub.FALLBACK_MS).
      this.opts.log.debug({ err }, 'realtime publish failed');
    }
  }

  /** Calls `onWake` for every message from any process (this one included); resolves once listening. */
  async subscribe(onWake: () => void): Promise<() => void> {
    this.listeners.add(onWake);
    if (this.listeners.size === 1 && !this.subscriber && !this.unlisten) await this.startListening();
    return () => this.listeners.delete(onWake);
  }

  private async startListening(): Promise<void> {
    const wake = () => {
      for (const l of this.listeners) l();
    };
    if (this.opts.redis) {
      // A subscribed connection can do nothing else: a second one, resubscribed by ioredis on reconnect.
      const sub = this.opts.redis.duplicate({ lazyConnect: true });
      sub.on('error', (err) => this.opts.log.debug({ err }, 'realtime subscriber error'));
      sub.on('message', wake);
      this.subscriber = sub;
      await sub.connect();
      await sub.subscribe(redisChannel(this.opts.redisPrefix));
    } else {
      this.unlisten = await this.opts.dbHandle.listen(PG_CHANNEL, wake);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
    this.subscriber?.disconnect();
    this.subscriber = null;
    await this.unlisten?.().catch(() => {});
    this.unlisten = null;
  }
}
