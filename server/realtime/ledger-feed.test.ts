import { describe, expect, it } from 'vitest';
import type { LiveLedgerRow } from '../../shared/live';
import { LedgerFeed } from './ledger-feed';

const rows = (...ids: number[]) => ids.map((id) => ({ transactionId: String(id) }) as LiveLedgerRow);
const ids = (rs: LiveLedgerRow[]) => rs.map((r) => r.transactionId);

describe('[REALTIME] one ledger feed sends each row once', () => {
  it('a resumed feed never re-sends its last event id, even when this process’s hub delivers it late', () => {
    // The CI failure of stop 22: resumed after 7, caught up 8–10, then the hub's tail (behind) sent 7–11.
    const feed = new LedgerFeed('7');
    expect(ids(feed.fresh(rows(8, 9, 10)))).toEqual(['8', '9', '10']);
    expect(ids(feed.fresh(rows(7, 8, 9, 10, 11)))).toEqual(['11']);
    expect(feed.lastId).toBe('11');
  });

  it('a row below the newest sent but above the resume point (a late commit of a lower id) still goes out once', () => {
    const feed = new LedgerFeed('7');
    feed.fresh(rows(8, 10));
    expect(ids(feed.fresh(rows(9, 10)))).toEqual(['9']);
    expect(feed.lastId).toBe('10');
    expect(feed.fresh(rows(9))).toEqual([]);
  });

  it('a fresh feed sends its opening rows and then only new ones', () => {
    const feed = new LedgerFeed(null);
    expect(feed.lastId).toBeNull();
    expect(ids(feed.fresh(rows(3, 4)))).toEqual(['3', '4']);
    expect(ids(feed.fresh(rows(4, 5)))).toEqual(['5']);
    expect(feed.lastId).toBe('5');
  });
});
