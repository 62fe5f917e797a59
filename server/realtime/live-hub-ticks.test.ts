import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveLedgerRow } from '../../shared/live';
import type { DbOrTx } from '../db/client';
import { consumeCredits } from '../ledger/consume';
import { createTestEnv, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { waitFor } from '../test/wait';
import { LiveHub, type HubTiming } from './live-hub';

let env: TestEnv;
let hub: LiveHub | undefined;
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await hub?.close();
  await env?.close();
});

/** Quick ticks while the ledger is quiet; a tick that read 5 rows or more makes the next wait 600 ms. */
const timing: HubTiming = { minTickMs: 20, busyRows: 5, busyTickMs: 600, fallbackMs: 40, figuresEveryMs: 1_000, figuresMinMs: 20, todayRecountMs: 3_600_000 };

describe('[REALTIME] the hub coalesces more while the ledger is busy, and goes back to quick ticks when it is quiet', () => {
  it('a tick that read busyRows rows is followed by the next no sooner than busyTickMs; after a quiet tick, minTickMs again', async () => {
    hub = new LiveHub(db(), env.deps.realtime.bus, pino({ level: 'silent' }), timing);
    const batches: { at: number; rows: LiveLedgerRow[] }[] = [];
    await hub.add({ ledger: (rows) => batches.push({ at: Date.now(), rows }) });
    const userId = await newUser(db(), 'pro');
    const keys = new Set<string>();
    const consume = (exec: DbOrTx = db()) => {
      const idempotencyKey = key();
      keys.add(idempotencyKey);
      return consumeCredits(exec, { userId, credits: 1, enhancementType: 'upscale', idempotencyKey });
    };
    /** The charges this test made that the hub delivered (the user's creation writes rows of its own). */
    const charges = (b: { rows: LiveLedgerRow[] }) => b.rows.filter((r) => r.idempotencyKey !== null && keys.has(r.idempotencyKey));

    // Six charges committed together: one tick reads them all.
    await db().transaction(async (tx) => {
      for (let i = 0; i < 6; i++) await consume(tx);
    });
    await waitFor(() => batches.flatMap(charges).length === 6, { what: 'the six rows delivered' });
    const busy = batches.find((b) => charges(b).length >= timing.busyRows);
    expect(busy, 'the six rows in one tick').toBeDefined();
    const busyTick = hub.tickStarts.findLast((t) => t <= busy!.at)!;
    // A row committed right after the busy tick waits for the longer gap.
    await consume();
    await waitFor(() => batches.flatMap(charges).length === 7, { what: 'the seventh row', timeoutMs: 5_000 });
    const next = hub.tickStarts.find((t) => t > busyTick)!;
    expect(next - busyTick).toBeGreaterThanOrEqual(timing.busyTickMs);

    // That tick read one row: quiet again, so ticks are minTickMs apart (the fallback wakes them every 40 ms).
    const ticksBefore = hub.ticks;
    await waitFor(() => hub!.ticks >= ticksBefore + 5, { what: 'quick ticks again', timeoutMs: 5_000 });
    const starts = hub.tickStarts.slice(-4);
    expect(Math.min(...starts.slice(1).map((t, i) => t - starts[i]!))).toBeLessThan(timing.busyTickMs);
    await expectLedgerClean(db());
  });
});
