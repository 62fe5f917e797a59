import type { Logger } from 'pino';
import type { LiveAlert, LiveFigures, LiveLedgerRow, LiveProvider } from '../../shared/live';
import type { Db } from '../db/client';
import type { ChangeBus } from './change-bus';
import { liveFigures } from './figures';
import { today } from '../analytics/days';
import { LedgerTail } from './ledger-tail';
import { addToToday, countToday, type TodayTotals } from './today-totals';
import { openAlerts, providerStates } from './snapshots';

export type HubListener = {
  ledger?: (rows: LiveLedgerRow[]) => void;
  figures?: (figures: LiveFigures) => void;
  providers?: (changed: LiveProvider[]) => void;
  alerts?: (kind: 'raised' | 'updated' | 'resolved', alert: LiveAlert) => void;
};

export type HubTiming = {
  /** Ticks are at least this far apart, so figures go out at most 1000/minTickMs times a second. */
  minTickMs: number;
  /**
   * After a tick that read at least busyRows ledger rows, the next waits busyTickMs instead: under
   * load, what the hub costs is per tick and per subscriber (a wake-up, a frame and a socket write
   * for every open feed), so it coalesces more while a sparse change still goes out at once.
   */
  busyRows: number;
  busyTickMs: number;
  /** With no wake-up, a tick anyway: catches writers that publish nothing (the CLI, psql, a lost message). */
  fallbackMs: number;
  /** Figures are recomputed at least this often even when nothing woke the hub (pool refills). */
  figuresEveryMs: number;
  /** ...and at most this often. */
  figuresMinMs: number;
  /**
   * Today's totals are counted in full (today's ledger rows: the one read that grows with the day)
   * this often, and at a day's turn; in between, the rows each poll returns are added to them.
   */
  todayRecountMs: number;
};
export const DEFAULT_TIMING: HubTiming = { minTickMs: 250, busyRows: 200, busyTickMs: 500, fallbackMs: 500, figuresEveryMs: 3_000, figuresMinMs: 500, todayRecountMs: 60_000 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One per process: while anyone in this process is subscribed, it reads what changed ONCE per tick
 * (new ledger rows, provider states, open alerts, and the dashboard figures when something moved)
 * and fans it out to every subscriber, so cost grows with ticks, not with subscribers × events.
 * A tick runs when any process's ChangeBus says something committed, or every fallbackMs.
 */
export class LiveHub {
  private readonly listeners = new Set<HubListener>();
  private running: Promise<void> | null = null;
  private ready: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private closed = false;
  private tail: LedgerTail;
  private figuresAt = 0;
  private figuresDirty = false;
  private todayTotals: TodayTotals | null = null;
  private todayCountedAt = 0;
  /** Ids the tail returned since today's totals were last brought up to date. */
  private uncounted: string[] = [];
  figures: LiveFigures | null = null;
  providers = new Map<string, LiveProvider>();
  alerts = new Map<string, LiveAlert>();
  /** Ticks run so far (tests and the bench read it). */
  ticks = 0;
  /** When the latest ticks started (tests read it). */
  readonly tickStarts: number[] = [];

  constructor(
    private readonly db: Db,
    private readonly bus: ChangeBus,
    private readonly log: Logger,
    private readonly timing: HubTiming = DEFAULT_TIMING,
  ) {
    this.tail = new LedgerTail(db);
  }

  /** Registers a listener; resolves once the hub's state (figures, providers, alerts) is current. */
  async add(listener: HubListener): Promise<() => void> {
    this.listeners.add(listener);
    if (!this.running) {
      let markReady!: () => void;
      this.ready = new Promise((r) => (markReady = r));
      this.running = this.run(markReady).finally(() => {
        this.running = null;
      });
    }
    await this.ready;
    return () => {
      this.listeners.delete(listener);
      this.wake();
    };
  }

  private wake() {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(markReady: () => void): Promise<void> {
    const unsubscribe = await this.bus
      .subscribe(() => this.wake())
      .catch((err) => {
        this.log.warn({ err }, 'realtime: cannot listen for changes; polling only');
        return () => {};
      });
    try {
      this.tail = new LedgerTail(this.db);
      this.figuresAt = 0;
      this.todayTotals = null;
      let last = Date.now();
      let gapMs = await this.tick(true, last);
      markReady();
      while (this.listeners.size > 0 && !this.closed) {
        if (!this.woken)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.timing.fallbackMs);
            this.wakeUp = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        this.wakeUp = null;
        if (this.listeners.size === 0 || this.closed) break;
        const wait = gapMs - (Date.now() - last);
        if (wait > 0) await sleep(wait);
        last = Date.now();
        gapMs = await this.tick(false, last);
      }
    } finally {
      markReady();
      unsubscribe();
    }
  }

  /** Reads and fans out what changed; answers how long after `startedAt` the next tick may start. */
  private async tick(first: boolean, startedAt: number): Promise<number> {
    const woken = this.woken;
    this.woken = false;
    this.ticks += 1;
    this.tickStarts.push(startedAt);
    if (this.tickStarts.length > 32) this.tickStarts.shift();
    let gapMs = this.timing.minTickMs;
    try {
      const ls = [...this.listeners];
      const rows = await this.pollLedger();
      if (rows.length >= this.timing.busyRows) gapMs = this.timing.busyTickMs;
      if (rows.length) for (const l of ls) l.ledger?.(rows);
      const providersMoved = await this.refreshProviders(first, ls);
      const alertsMoved = await this.refreshAlerts(first, ls);
      if (woken || rows.length > 0 || providersMoved || alertsMoved) this.figuresDirty = true;
      const since = Date.now() - this.figuresAt;
      if (first || since >= this.timing.figuresEveryMs || (this.figuresDirty && since >= this.timing.figuresMinMs)) {
        this.figuresAt = Date.now();
        this.figuresDirty = false;
        if (this.uncounted.length) {
          this.todayTotals = await addToToday(this.db, this.todayTotals!, this.uncounted);
          this.uncounted = [];
        }
        const next = await liveFigures(this.db, this.todayTotals!);
        if (JSON.stringify(next) !== JSON.stringify(this.figures)) {
          this.figures = next;
          for (const l of ls) l.figures?.(next);
        }
      }
    } catch (err) {
      // The database away: streams stay open and catch up on the next tick that reads.
      this.log.warn({ err }, 'realtime tick failed');
    }
    return gapMs;
  }

  /**
   * The tail's new rows. When today's totals are due a full count, the poll and the count read one
   * snapshot (repeatable read), so the count holds exactly the rows up to the tail's last id and
   * every later poll returns only rows it did not count; otherwise the new ids wait to be added.
   */
  private async pollLedger() {
    const due = !this.todayTotals || this.todayTotals.day !== today() || Date.now() - this.todayCountedAt >= this.timing.todayRecountMs;
    if (!due) {
      const rows = await this.tail.poll();
      for (const r of rows) this.uncounted.push(r.transactionId);
      return rows;
    }
    const mark = this.tail.mark();
    try {
      const { rows, totals } = await this.db.transaction(
        async (tx) => {
          const polled = await this.tail.poll(tx);
          return { rows: polled, totals: await countToday(tx, this.tail.lastId) };
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      );
      this.todayTotals = totals;
      this.todayCountedAt = Date.now();
      this.uncounted = [];
      this.figuresDirty = true;
      return rows;
    } catch (err) {
      // Nothing was delivered: the next tick reads the same rows again.
      this.tail.reset(mark);
      throw err;
    }
  }

  private async refreshProviders(first: boolean, ls: HubListener[]): Promise<boolean> {
    const states = await providerStates(this.db);
    const changed = states.filter((p) => JSON.stringify(this.providers.get(p.name)) !== JSON.stringify(p));
    this.providers = new Map(states.map((p) => [p.name, p]));
    if (!first && changed.length) for (const l of ls) l.providers?.(changed);
    return changed.length > 0;
  }

  private async refreshAlerts(first: boolean, ls: HubListener[]): Promise<boolean> {
    const open = await openAlerts(this.db);
    const next = new Map(open.map((a) => [a.id, a]));
    const events: ['raised' | 'updated' | 'resolved', LiveAlert][] = [];
    for (const a of open) {
      const before = this.alerts.get(a.id);
      if (!before) events.push(['raised', a]);
      else if (JSON.stringify(before) !== JSON.stringify(a)) events.push(['updated', a]);
    }
    for (const [id, a] of this.alerts) if (!next.has(id)) events.push(['resolved', { ...a, status: 'resolved' }]);
    this.alerts = next;
    if (!first) for (const [kind, a] of events) for (const l of ls) l.alerts?.(kind, a);
    return events.length > 0;
  }

  /** Subscribers in this process (the hub stops ticking at zero). */
  get size() {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.wake();
    await this.running;
  }
}
