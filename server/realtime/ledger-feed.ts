import type { LiveLedgerRow } from '../../shared/live';

/** The ids one feed remembers having sent; past it the set starts again (the floor and lastId still hold). */
const SENT_MAX = 20_000;

/** Whether transaction id `a` is above `b`: both canonical decimal (bigserial), compared without BigInt. */
const idAbove = (a: string, b: string) => a.length > b.length || (a.length === b.length && a > b);

/** Where a batch of rows came from: this stream's own read of the ledger, or this process's hub. */
export type FeedSource = 'read' | 'hub';

/**
 * What one ledger stream has sent, so each row goes out once. Rows reach a stream two ways: its
 * own reads (the opening or resume read, and a catch-up after its queue overflowed) and this
 * process's hub. The hub delivers each row once (LedgerTail), but its tail may be behind a read, so
 * it can deliver rows a read already sent, or (on a resumed stream) rows at or before the client's
 * last event id, which the client said it has. Both are dropped. A row above that floor and not yet
 * sent (a late commit of a lower id) still goes out. Only reads' ids are remembered: a hub batch
 * entirely above them and the floor, the common case, is sent as it is without a lookup per row,
 * since every open feed gets every charge.
 */
export class LedgerFeed {
  /** Ids sent by this stream's reads: the only rows the hub can deliver again. */
  private readonly readSent = new Set<string>();
  private readonly floor: string | null;
  /** The highest of the floor and every id a read sent: a hub row above it cannot be a repeat. */
  private readMax: string | null;
  /** The highest transaction id sent, or resumed from: the stream's event id and its catch-up point. */
  lastId: string | null;

  constructor(lastEventId: string | null) {
    this.floor = lastEventId === null ? null : BigInt(lastEventId).toString();
    this.readMax = this.floor;
    this.lastId = lastEventId;
  }

  /**
   * The rows not sent yet, in their order. When every row is fresh the same array comes back, so
   * the feeds of one tick share it (and one encoded frame: server/trpc/direct-streams.ts).
   */
  fresh(rows: LiveLedgerRow[], source: FeedSource): LiveLedgerRow[] {
    const readMax = this.readMax;
    const out = source === 'hub' && (readMax === null || rows.every((r) => idAbove(r.transactionId, readMax))) ? rows : this.unsent(rows);
    // Past the bound the set starts again, before this read's rows go in: the hub may still deliver
    // those (its tail behind the read), while a repeat of a row that old is no longer possible (the hub's gaps last 15 s).
    if (source === 'read' && this.readSent.size + out.length > SENT_MAX) this.readSent.clear();
    for (const r of out) {
      if (this.lastId === null || idAbove(r.transactionId, this.lastId)) this.lastId = r.transactionId;
      if (source === 'hub') continue;
      this.readSent.add(r.transactionId);
      if (this.readMax === null || idAbove(r.transactionId, this.readMax)) this.readMax = r.transactionId;
    }
    return out;
  }

  private unsent(rows: LiveLedgerRow[]): LiveLedgerRow[] {
    const floor = this.floor;
    const isFresh = (r: LiveLedgerRow) => !this.readSent.has(r.transactionId) && (floor === null || idAbove(r.transactionId, floor));
    return rows.every(isFresh) ? rows : rows.filter(isFresh);
  }
}
