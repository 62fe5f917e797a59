import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveFigures } from '../../shared/live';
import { consumeCredits } from '../ledger/consume';
import { createTestEnv, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser, setAllowanceBalance } from '../test/ledger-helpers';
import { waitFor } from '../test/wait';
import { LiveHub, type HubTiming } from './live-hub';
import { countToday } from './today-totals';

let env: TestEnv;
const hubs: LiveHub[] = [];
const db = () => env.deps.dbHandle.db;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  for (const h of hubs) await h.close();
  await env?.close();
});

const fast = (todayRecountMs: number): HubTiming => ({ minTickMs: 20, busyRows: 500, busyTickMs: 20, fallbackMs: 40, figuresEveryMs: 200, figuresMinMs: 20, todayRecountMs });

/** A hub of its own with one listener that keeps the latest figures. */
async function watch(timing: HubTiming) {
  const hub = new LiveHub(db(), env.deps.realtime.bus, log, timing);
  hubs.push(hub);
  const seen: { latest: LiveFigures | null } = { latest: null };
  await hub.add({ figures: (f) => (seen.latest = f) });
  return seen;
}

const consume = (userId: string, exec = db()) => consumeCredits(exec, { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });

/** The figures match a full count of today's ledger, and still do a few ticks later (a row counted twice would overshoot). */
async function expectFiguresEqualRecount(seen: { latest: LiveFigures | null }) {
  const full = await countToday(db());
  await waitFor(() => seen.latest?.requestsToday === full.requests && seen.latest.creditsConsumedToday === full.credits, { what: `figures at ${full.requests} requests` });
  const settled = seen.latest!.requestsToday;
  await waitFor(async () => (await countToday(db())).requests === settled);
  expect(seen.latest).toMatchObject({ requestsToday: full.requests, creditsConsumedToday: full.credits });
}

describe("[REALTIME] today's figures are counted once, then kept up to date from the rows the tail reads", () => {
  it('between full counts the new rows are added: the figures equal a recount, a late commit with a lower id included', async () => {
    const seen = await watch(fast(3_600_000));
    const [userId, other] = [await newUser(db(), 'pro'), await newUser(db(), 'pro')];
    await waitFor(() => seen.latest, { what: 'the first figures' });
    for (let i = 0; i < 5; i++) await consume(userId);

    // A consume whose transaction takes its id first and commits after a later one is visible.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const took = new Promise<void>((r) => (inserted = r));
    const late = db().transaction(async (tx) => {
      await consume(userId, tx);
      inserted();
      await gate;
    });
    await took;
    await consume(other);
    await expectFiguresEqualRecount(seen);
    release();
    await late;
    await expectFiguresEqualRecount(seen);
    await expectLedgerClean(db());
  });

  it('a full count on every tick, with consumes committing all the while, counts each row once', async () => {
    const seen = await watch(fast(0));
    const userIds = await Promise.all(Array.from({ length: 8 }, () => newUser(db(), 'pro')));
    for (const u of userIds) await setAllowanceBalance(db(), u, 100_000);
    await waitFor(() => seen.latest, { what: 'the first figures' });
    const deadline = Date.now() + 1_500;
    await Promise.all(
      userIds.map(async (u) => {
        while (Date.now() < deadline) await consume(u);
      }),
    );
    await expectFiguresEqualRecount(seen);
    await expectLedgerClean(db());
  });
});
