import { describe, expect, it } from 'vitest';
import { ledgerRowSchema } from '../../shared/ledger';
import { fromLiveTuple, LIVE_LEDGER_COLUMNS, toLiveTuple, type LiveLedgerRow, type LiveLedgerTuple } from '../../shared/live';
import { LedgerFeed } from './ledger-feed';

const rows = (...ids: number[]) => ids.map((id) => ({ transactionId: String(id) }) as LiveLedgerRow);
const ids = (rs: LiveLedgerRow[]) => rs.map((r) => r.transactionId);

describe('[REALTIME] one ledger feed sends each row once', () => {
  it('a resumed feed never re-sends its last event id, even when this process’s hub delivers it late', () => {
    // The CI failure of stop 22: resumed after 7, caught up 8–10, then the hub's tail (behind) sent 7–11.
    const feed = new LedgerFeed('7');
    expect(ids(feed.fresh(rows(8, 9, 10), 'read'))).toEqual(['8', '9', '10']);
    expect(ids(feed.fresh(rows(7, 8, 9, 10, 11), 'hub'))).toEqual(['11']);
    expect(feed.lastId).toBe('11');
  });

  it('a row below the newest sent but above the resume point (a late commit of a lower id) still goes out once', () => {
    const feed = new LedgerFeed('7');
    feed.fresh(rows(8, 10), 'read');
    expect(ids(feed.fresh(rows(9, 10), 'hub'))).toEqual(['9']);
    expect(feed.lastId).toBe('10');
  });

  it('a fresh feed sends its opening rows and then only new ones', () => {
    const feed = new LedgerFeed(null);
    expect(feed.lastId).toBeNull();
    expect(ids(feed.fresh(rows(3, 4), 'read'))).toEqual(['3', '4']);
    expect(ids(feed.fresh(rows(4, 5), 'hub'))).toEqual(['5']);
    expect(feed.lastId).toBe('5');
  });
});

describe('[REALTIME] the hub’s batches above everything a read sent go out as they are', () => {
  it('the very array comes back (one frame for every feed), the last id moves, and a later repeat of a read row is still dropped', () => {
    const feed = new LedgerFeed(null);
    feed.fresh(rows(3, 4), 'read');
    const batch = rows(6, 5, 7);
    expect(feed.fresh(batch, 'hub')).toBe(batch);
    expect(feed.lastId).toBe('7');
    // A late commit of a low id (2) is new and goes out; 4, which the read sent, does not.
    expect(ids(feed.fresh(rows(2, 4), 'hub'))).toEqual(['2']);
    expect(feed.lastId).toBe('7');
  });

  it('a catch-up read after an overflow is remembered: the hub delivering the same rows later sends nothing twice', () => {
    const feed = new LedgerFeed('10');
    expect(ids(feed.fresh(rows(11, 12), 'hub'))).toEqual(['11', '12']);
    expect(ids(feed.fresh(rows(13, 14), 'read'))).toEqual(['13', '14']);
    expect(ids(feed.fresh(rows(13, 14, 15), 'hub'))).toEqual(['15']);
    expect(feed.lastId).toBe('15');
  });
});

describe('[REALTIME] a feed that has read many rows still sends each once', () => {
  it('the rows of the read that fills the remembered set are kept: the hub delivering them afterwards (its tail behind the read) sends nothing twice', () => {
    const feed = new LedgerFeed('0');
    // Catch-up reads (a long resume, overflows under load) of 1000 rows a page, 21 pages.
    for (let page = 0; page < 21; page++) feed.fresh(rows(...Array.from({ length: 1000 }, (_, i) => page * 1000 + i + 1)), 'read');
    expect(feed.lastId).toBe('21000');
    // The hub's tail, behind the last read, delivers its rows and one new one.
    expect(ids(feed.fresh(rows(20_999, 21_000, 21_001), 'hub'))).toEqual(['21001']);
  });
});

describe('[REALTIME] a feed row travels as a tuple and arrives as the row it was', () => {
  const row: LiveLedgerRow = {
    transactionId: '41',
    userId: 'u-1',
    email: 'u-1@example.test',
    type: 'capture',
    source: 'platform_pool',
    creditsUsed: 2,
    creditsDelta: 0,
    balanceAfter: 8,
    costUsd: '0.078000',
    provider: 'fal',
    enhancementType: 'upscale',
    moodboardId: 'mb-1',
    reservationId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    status: 'completed',
    reason: null,
    actor: null,
    idempotencyKey: 'k-41',
    matchedBy: null,
    createdAt: '2026-12-03T10:00:00.000Z',
  };

  it('every field of a ledger row but the search’s matchedBy is a column, in the order declared', () => {
    const schemaKeys = Object.keys(ledgerRowSchema.shape).filter((k) => k !== 'matchedBy');
    expect([...LIVE_LEDGER_COLUMNS].sort()).toEqual(schemaKeys.sort());
    expect(toLiveTuple(row)).toEqual(LIVE_LEDGER_COLUMNS.map((k) => row[k]));
  });

  it('fromLiveTuple(toLiveTuple(row)) is the row, and parses as a ledger row', () => {
    const back = fromLiveTuple(JSON.parse(JSON.stringify(toLiveTuple(row))) as LiveLedgerTuple);
    expect(back).toEqual(row);
    expect(ledgerRowSchema.parse(back)).toEqual(row);
  });

  it('is less than half the bytes of the row as an object', () => {
    expect(JSON.stringify(toLiveTuple(row)).length * 2).toBeLessThan(JSON.stringify(row).length);
  });
});
