import type { LiveLedgerRow } from '../../shared/live';

/** The ids one feed remembers having sent; past it the set starts again (the floor and lastId still hold). */
const SENT_MAX = 20_000;

/** Whether transaction id `a` is above `b`: both canonical decimal (bigserial), compared without BigInt. */
const idAbove = (a: string, b: string) => a.length > b.length || (a.length === b.length && a > b);

/**
 * What one ledger stream has sent, so each row goes out once. Rows reach a stream two ways — its
 * own catch-up read and this process's hub — and the hub's tail may be behind the catch-up, so it
 * can deliver rows the stream already sent, or (on a resumed stream) rows at or before the
 * client's last event id, which the client said it has. Both are dropped. A row above that floor
 * and not yet sent (a late commit of a lower id) still goes out.
 */
export class LedgerFeed {
  private readonly sent = new Set<string>();
  private readonly floor: string | null;
  /** The highest transaction id sent, or resumed from: the stream's event id and its catch-up point. */
  lastId: string | null;

  constructor(lastEventId: string | null) {
    this.floor = lastEventId === null ? null : BigInt(lastEventId).toString();
    this.lastId = lastEventId;
  }

  /**
   * The rows not sent yet, in their order. When every row is fresh the same array comes back, so
   * the feeds of one tick share it (and one encoded frame: server/trpc/direct-streams.ts).
   */
  fresh(rows: LiveLedgerRow[]): LiveLedgerRow[] {
    const floor = this.floor;
    const isFresh = (r: LiveLedgerRow) => !this.sent.has(r.transactionId) && (floor === null || idAbove(r.transactionId, floor));
    const out = rows.every(isFresh) ? rows : rows.filter(isFresh);
    if (this.sent.size > SENT_MAX) this.sent.clear();
    for (const r of out) {
      this.sent.add(r.transactionId);
      if (this.lastId === null || idAbove(r.transactionId, this.lastId)) this.lastId = r.transactionId;
    }
    return out;
  }
}
