import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DbHandle } from '../db/client';
import type { ApiKeyCache } from './api-key-cache';

/** The PostgreSQL channel of the no-Redis path (per database, so installations never mix). */
export const PG_KEY_CHANNEL = 'creditdesk_api_keys';
export const redisKeyChannel = (prefix: string) => `${prefix}:api-keys`;

export type KeyChangeTiming = {
  /** Each process says "I am here" this often, and hears itself say it. */
  heartbeatMs: number;
  /** The cache is trusted this long after the process last heard its own heartbeat. */
  trustMs: number;
  /** How long `announce` waits for every live process to confirm the drop. */
  ackTimeoutMs: number;
};

export const DEFAULT_KEY_CHANGE_TIMING: KeyChangeTiming = { heartbeatMs: 1_000, trustMs: 3_000, ackTimeoutMs: 1_000 };

type Pending = { expected: number; acked: Set<string>; done: () => void };

/** What `announce` saw: how many processes were listening and how many confirmed the drop in time. */
export type Announced = { expected: number; acked: number };

/**
 * Tells every process that a key changed (revoked, rotated, scopes edited), so each drops it from
 * its ApiKeyCache, and keeps each cache honest about whether such news can reach it.
 *
 * Messages (space-separated, over Redis pub/sub on `<prefix>:api-keys`, else `pg_notify` on
 * `creditdesk_api_keys`):
 * - `drop <origin> <nonce> <keyId>`: drop the key, then answer `ack <origin> <nonce>`. The announcer
 *   waits (bounded) for as many acks as PUBLISH reported subscribers (without Redis: processes heard
 *   in the last trustMs), so when a revoke returns, every live process has dropped the key.
 * - `beat <origin> <seq> <drops>`: each process's heartbeat. Hearing its own keeps a process's cache
 *   trusted for trustMs; a gap in its own sequence, or a peer announcing more drops than arrived
 *   from it, means messages were lost, and the cache is emptied. Redis closing the subscriber's
 *   connection distrusts at once; on PostgreSQL a lost LISTEN connection shows as missing beats.
 */
export class KeyChanges {
  readonly origin = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private subscriber: Redis | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private heardSeq = 0;
  /** Drops this process has announced (sent or tried): carried by each beat. */
  private dropsSent = 0;
  /** Per peer: drops received from it and when it was last heard. */
  private readonly peers = new Map<string, { drops: number; seenAt: number }>();
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  constructor(
    private readonly opts: {
      redis: Redis | null;
      redisPrefix: string;
      dbHandle: DbHandle;
      log: Logger;
      cache: ApiKeyCache;
      timing?: KeyChangeTiming;
      now?: () => number;
    },
  ) {}

  private get timing() {
    return this.opts.timing ?? DEFAULT_KEY_CHANGE_TIMING;
  }

  private now() {
    return (this.opts.now ?? Date.now)();
  }

  /** Subscribes and starts the heartbeat; the cache is trusted from the first beat heard back. */
  async start(): Promise<void> {
    const onMessage = (message: string) => this.receive(message);
    if (this.opts.redis) {
      // A subscribed connection can do nothing else: a second one, resubscribed by ioredis on reconnect.
      const sub = this.opts.redis.duplicate({ lazyConnect: true });
      sub.on('error', (err) => this.opts.log.debug({ err }, 'api key change subscriber error'));
      sub.on('message', (_channel: string, message: string) => onMessage(message));
      // Whatever is published while the connection is down is lost to this process.
      sub.on('close', () => this.opts.cache.distrust());
      this.subscriber = sub;
      await sub.connect();
      await sub.subscribe(redisKeyChannel(this.opts.redisPrefix));
    } else {
      this.unlisten = await this.opts.dbHandle.listen(PG_KEY_CHANNEL, onMessage);
    }
    this.timer = setInterval(() => void this.beat(), this.timing.heartbeatMs);
    this.timer.unref();
    await this.beat();
  }

  /**
   * After the change committed: drops the key here at once, then tells every other process and
   * waits up to ackTimeoutMs for each to confirm. Never throws: the change is committed whatever the
   * channel does, and a process that missed it stops trusting its cache (see the class comment).
   */
  async announce(keyId: string): Promise<Announced> {
    this.opts.cache.dropKey(keyId);
    if (this.closed) return { expected: 0, acked: 0 };
    const nonce = randomBytes(6).toString('hex');
    let confirm = () => {};
    const confirmed = new Promise<void>((resolve) => (confirm = resolve));
    const entry: Pending = { expected: Infinity, acked: new Set(), done: confirm };
    this.pending.set(nonce, entry);
    this.dropsSent += 1;
    const sent = this.send(`drop ${this.origin} ${nonce} ${keyId}`).then((subscribers) => {
      const since = this.now() - this.timing.trustMs;
      entry.expected = subscribers ?? [...this.peers.values()].filter((p) => p.seenAt >= since).length;
      if (entry.acked.size >= entry.expected) confirm();
    });
    sent.catch((err) => {
      this.opts.log.warn({ err, keyId }, "could not announce an API key change; other processes notice the lost drop at this process's next heartbeat");
      confirm();
    });
    // One bound for the publish and the acks together: a Redis that hangs must not hold the revoke.
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([confirmed, new Promise<void>((resolve) => (timeout = setTimeout(resolve, this.timing.ackTimeoutMs)))]);
    clearTimeout(timeout);
    this.pending.delete(nonce);
    const result = { expected: entry.expected === Infinity ? 0 : entry.expected, acked: entry.acked.size };
    if (result.acked < result.expected) this.opts.log.warn({ keyId, ...result }, 'not every process confirmed an API key change in time');
    return result;
  }

  private receive(message: string): void {
    const [kind, origin, a, b] = message.split(' ');
    if (!origin) return;
    if (kind === 'drop' && a && b) {
      this.opts.cache.dropKey(b);
      const peer = this.peers.get(origin);
      if (peer) peer.drops += 1;
      void this.send(`ack ${origin} ${a} ${this.origin}`).catch((err) => this.opts.log.debug({ err }, 'api key change ack failed'));
    } else if (kind === 'ack' && a && b && origin === this.origin) {
      const entry = this.pending.get(a);
      if (!entry) return;
      entry.acked.add(b);
      if (entry.acked.size >= entry.expected) entry.done();
    } else if (kind === 'beat' && a && b) {
      this.heard(origin, Number(a), Number(b));
    }
  }

  private heard(origin: string, seq: number, drops: number): void {
    const now = this.now();
    const peer = this.peers.get(origin);
    if (!peer) {
      this.peers.set(origin, { drops, seenAt: now });
    } else {
      peer.seenAt = now;
      // More drops announced than arrived from that process: one was lost on the way.
      if (peer.drops < drops) this.opts.cache.clear();
      peer.drops = Math.max(peer.drops, drops);
    }
    if (origin === this.origin) {
      // Back after a silence, or a beat of our own went missing: anything may have been missed meanwhile.
      if (!this.opts.cache.trusted || seq !== this.heardSeq + 1) this.opts.cache.clear();
      this.heardSeq = seq;
      this.opts.cache.trustUntil(now + this.timing.trustMs);
    }
    for (const [id, p] of this.peers) if (p.seenAt < now - 10 * this.timing.trustMs) this.peers.delete(id);
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    this.seq += 1;
    try {
      await this.send(`beat ${this.origin} ${this.seq} ${this.dropsSent}`);
    } catch (err) {
      this.opts.log.debug({ err }, 'api key change heartbeat failed');
    }
  }

  /** Publishes; with Redis, answers how many subscribers received it. */
  private async send(message: string): Promise<number | null> {
    if (this.opts.redis) return this.opts.redis.publish(redisKeyChannel(this.opts.redisPrefix), message);
    await this.opts.dbHandle.db.execute(sql`select pg_notify(${PG_KEY_CHANNEL}, ${message})`);
    return null;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.opts.cache.distrust();
    for (const entry of this.pending.values()) entry.done();
    this.subscriber?.disconnect();
    this.subscriber = null;
    await this.unlisten?.().catch(() => {});
    this.unlisten = null;
  }
}

/**
 * A change made by a process that keeps no cache (the CLI): the same drop message, without waiting
 * for acknowledgements. The CLI sends no heartbeats, so if this one message is lost, the servers'
 * caches hold the key until their TTL.
 */
export async function announceKeyChangeOnce(opts: { redis: Redis | null; redisPrefix: string; dbHandle: DbHandle }, keyId: string): Promise<void> {
  const message = `drop cli-${process.pid} ${randomBytes(6).toString('hex')} ${keyId}`;
  if (opts.redis) await opts.redis.publish(redisKeyChannel(opts.redisPrefix), message);
  else await opts.dbHandle.db.execute(sql`select pg_notify(${PG_KEY_CHANNEL}, ${message})`);
}
