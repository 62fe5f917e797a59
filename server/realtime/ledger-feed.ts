import type { LiveLedgerRow } from '../../shared/live';

/** The ids one feed remembers having sent; past it the set starts again (the floor and lastId still hold). */
const SENT_MAX = 20_000;

/**
 * What one ledger stream has sent, so each row goes out once. Rows reach a stream two ways — its
 * own catch-up read and this process's hub — and the hub's tail may be behind the catch-up, so it
 * can deliver rows the stream already sent, or (on a resumed stream) rows at or before the
 * client's last event id, which the client said it has. Both are dropped. A row above that floor
 * and not yet sent (a late commit of a lower id) still goes out.
 */
export class LedgerFeed {
  private readonly sent = new Set<string>();
  private readonly floor: bigint | null;
  /** The highest transaction id sent, or resumed from: the stream's event id and its catch-up point. */
  lastId: string | null;

  constructor(lastEventId: string | null) {
    this.floor = lastEventId === null ? null : BigInt(lastEventId);
    this.lastId = lastEventId;
  }

  fresh(rows: LiveLedgerRow[]): LiveLedgerRow[] {
    const out = rows.filter((r) => !this.sent.has(r.transactionId) && (this.floor === null || BigInt(r.transactionId) > this.floor));
    if (this.sent.size > SENT_MAX) this.sent.clear();
    for (const r of out) {
      this.sent.add(r.transactionId);
      if (this.lastId === null || BigInt(r.transactionId) > BigInt(this.lastId)) this.lastId = r.transactionId;
    }
    return out;
  }
}
