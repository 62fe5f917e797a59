import { tracked, TRPCError } from '@trpc/server';
import {
  LIVE_LEDGER_INITIAL,
  LIVE_LEDGER_RESUME_MAX,
  liveLedgerInputSchema,
  liveStreamInputSchema,
  type LiveAlertEvent,
  toLiveTuple,
  type LiveFigures,
  type LiveLedgerEvent,
  type LiveLedgerRow,
  type LiveProviderEvent,
} from '../../../shared/live';
import { resolveSession } from '../../auth/sessions';
import { ABORTED, EventQueue, OVERFLOW, TIMEOUT } from '../../realtime/event-queue';
import { LedgerFeed } from '../../realtime/ledger-feed';
import { latestLedgerRows, ledgerRowsAfter, matchesLiveFilter, maxLedgerId } from '../../realtime/ledger-tail';
import type { ContextInner } from '../context';
import { router } from '../init';
import { adminProcedure } from '../procedures';

/** How often an open stream checks that its session is still valid (expired, revoked, disabled). */
export const SESSION_RECHECK_MS = 5_000;
const QUEUE_MAX = 2_000;
/** Ledger batches (one per tick) a feed may fall behind before it is caught up from the database. */
const LEDGER_QUEUE_MAX = 40;

/**
 * Sessions found valid, until when: one browser holds several streams on one session, so a check
 * serves them all for SESSION_RECHECK_MS (a revoked session is still noticed within that time).
 */
const validUntil = new Map<string, number>();

/** A signed-out, expired or revoked session ends the stream with UNAUTHORIZED, as a query would be refused. */
async function ensureSession(ctx: ContextInner): Promise<void> {
  const token = ctx.sessionToken;
  const now = Date.now();
  if (token && (validUntil.get(token) ?? 0) > now) return;
  const admin = token ? await resolveSession(ctx.db, token) : null;
  if (!admin || admin.mustChangePassword) {
    if (token) validUntil.delete(token);
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session ended: sign in again.' });
  }
  if (validUntil.size > 10_000) validUntil.clear();
  validUntil.set(token!, now + SESSION_RECHECK_MS);
}

/**
 * The loop every stream shares: wait for the hub's next item, re-check the session every
 * SESSION_RECHECK_MS, and on overflow let the stream re-read what it missed.
 */
async function* drain<T>(ctx: ContextInner, signal: AbortSignal | undefined, queue: EventQueue<T>, onOverflow: () => Promise<T[]>) {
  let checkAt = Date.now() + SESSION_RECHECK_MS;
  for (;;) {
    const item = await queue.next(Math.max(1, checkAt - Date.now()), signal);
    if (item === ABORTED) return;
    if (item === TIMEOUT || Date.now() >= checkAt) {
      await ensureSession(ctx);
      checkAt = Date.now() + SESSION_RECHECK_MS;
      if (item === TIMEOUT) continue;
    }
    if (item === OVERFLOW) yield* await onOverflow();
    else yield item;
  }
}

/**
 * One payload object per batch of rows: every feed sending the same rows yields the same object
 * (its rows as tuples, made once), which the direct stream writer serialises once for all of them.
 */
const batchPayloads = new WeakMap<LiveLedgerRow[], LiveLedgerEvent>();
function batchPayload(rows: LiveLedgerRow[]): LiveLedgerEvent {
  let payload = batchPayloads.get(rows);
  if (!payload) batchPayloads.set(rows, (payload = { rows: rows.map(toLiveTuple), opening: false }));
  return payload;
}

let figuresSeq = 0;
const nextId = () => `${Date.now().toString(36)}.${(figuresSeq++).toString(36)}`;

export const liveRouter = router({
  /** The dashboard's headline figures: the current ones at once, then each change (≤ 4 a second). */
  figures: adminProcedure('analyst')
    .input(liveStreamInputSchema)
    .subscription(async function* ({ ctx, signal }) {
      const queue = new EventQueue<LiveFigures>(1);
      const hub = ctx.deps.realtime.hub;
      // Coalesced: a subscriber behind by one update gets only the newest.
      const detach = await hub.add({ figures: (f) => queue.push(f) });
      try {
        if (hub.figures) yield tracked(nextId(), hub.figures);
        for await (const f of drain(ctx, signal, queue, async () => (hub.figures ? [hub.figures] : []))) yield tracked(nextId(), f);
      } finally {
        detach();
      }
    }),

  /** Provider states: a snapshot on (re)connect, then the providers whose state changed. */
  providers: adminProcedure('analyst')
    .input(liveStreamInputSchema)
    .subscription(async function* ({ ctx, signal }) {
      const queue = new EventQueue<LiveProviderEvent>(QUEUE_MAX);
      const hub = ctx.deps.realtime.hub;
      const detach = await hub.add({ providers: (changed) => queue.push({ kind: 'changed', providers: changed }) });
      const snapshot = async (): Promise<LiveProviderEvent[]> => [{ kind: 'snapshot', providers: [...hub.providers.values()] }];
      try {
        for (const e of await snapshot()) yield tracked(nextId(), e);
        for await (const e of drain(ctx, signal, queue, snapshot)) yield tracked(nextId(), e);
      } finally {
        detach();
      }
    }),

  /** Unresolved alerts: a snapshot on (re)connect, then each alert raised, updated or resolved. */
  alerts: adminProcedure('analyst')
    .input(liveStreamInputSchema)
    .subscription(async function* ({ ctx, signal }) {
      const queue = new EventQueue<LiveAlertEvent>(QUEUE_MAX);
      const hub = ctx.deps.realtime.hub;
      const detach = await hub.add({ alerts: (kind, alert) => queue.push({ kind, alerts: [alert] }) });
      const snapshot = async (): Promise<LiveAlertEvent[]> => [{ kind: 'snapshot', alerts: [...hub.alerts.values()] }];
      try {
        for (const e of await snapshot()) yield tracked(nextId(), e);
        for await (const e of drain(ctx, signal, queue, snapshot)) yield tracked(nextId(), e);
      } finally {
        detach();
      }
    }),

  /**
   * The ledger as it is written, filtered by user, type, source and provider. One event per hub tick
   * carries that tick's matching rows (so 200 feeds cost 200 writes a tick, not 200 per row), its id
   * the last row's transaction id. A fresh stream opens with the newest LIVE_LEDGER_INITIAL rows
   * (`opening`); a resumed one (lastEventId) re-reads from the database every row after it, so a
   * dropped connection misses none.
   */
  ledger: adminProcedure('analyst')
    .input(liveLedgerInputSchema)
    .subscription(async function* ({ ctx, input, signal }) {
      const { lastEventId, ...filter } = input;
      const queue = new EventQueue<LiveLedgerRow[]>(LEDGER_QUEUE_MAX);
      const unfiltered = Object.values(filter).every((v) => !v);
      // Listen first, read history second: a row committed in between is in one or the other.
      const detach = await ctx.deps.realtime.hub.add({
        ledger: (rows) => {
          // Unfiltered feeds keep the hub's array itself, shared by all of them.
          const mine = unfiltered ? rows : rows.filter((r) => matchesLiveFilter(filter, r));
          if (mine.length) queue.push(mine);
        },
      });
      const lastEventIdOk = lastEventId && /^\d{1,18}$/.test(lastEventId) ? lastEventId : null;
      const feed = new LedgerFeed(lastEventIdOk);
      const opening = !lastEventIdOk;
      // Reads from where the feed stands: the newest rows on a fresh stream, then everything after its last id.
      // The batches this stream read itself, told apart from the hub's when the drain hands them over.
      const reads = new WeakSet<LiveLedgerRow[]>();
      const catchUp = async (): Promise<LiveLedgerRow[][]> => {
        const out: LiveLedgerRow[][] = [];
        let after = feed.lastId;
        for (let page = 0; page < 10; page++) {
          const rows = after ? await ledgerRowsAfter(ctx.db, filter, after, LIVE_LEDGER_RESUME_MAX) : await latestLedgerRows(ctx.db, filter, LIVE_LEDGER_INITIAL);
          if (rows.length) {
            out.push(rows);
            reads.add(rows);
            after = rows.at(-1)!.transactionId;
          }
          if (rows.length < LIVE_LEDGER_RESUME_MAX) break;
        }
        return out;
      };
      try {
        const first = (await catchUp()).flatMap((rows) => feed.fresh(rows, 'read'));
        // Nothing matches yet: a reconnect resumes from the ledger's end as it was now.
        feed.lastId ??= await maxLedgerId(ctx.db);
        // Always one opening event, empty or not: the page knows the stream is open.
        yield tracked(feed.lastId, { rows: first.map(toLiveTuple), opening } satisfies LiveLedgerEvent);
        for await (const batch of drain(ctx, signal, queue, catchUp)) {
          const rows = feed.fresh(batch, reads.has(batch) ? 'read' : 'hub');
          if (rows.length) yield tracked(feed.lastId, batchPayload(rows));
        }
      } finally {
        detach();
      }
    }),
});
