import { QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toLiveTuple, type LiveLedgerRow } from '../../../shared/live';
import { LivePage } from '../pages/LivePage';
import { createClient, createQueryClient, TRPCProvider } from '../trpc';
import { reopenDelayMs } from './keep-open';
import { LiveIndicator, LiveProvider } from './LiveConnection';

/**
 * A stand-in for the browser's EventSource that the test drives: `connect()` is the server's
 * `connected` event, `drop()` a network error the browser retries itself, `refuse()` an answer the
 * browser gives up on (readyState CLOSED), `fail(code)` tRPC's serialized error.
 */
class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static opened: FakeEventSource[] = [];
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSED = 2;
  readyState = 0;
  private listeners = new Map<string, ((e: Event | MessageEvent) => void)[]>();
  constructor(readonly url: string) {
    FakeEventSource.opened.push(this);
  }
  addEventListener(type: string, fn: (e: Event | MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  removeEventListener() {}
  close() {
    this.readyState = this.CLOSED;
  }
  private emit(type: string, data?: string, lastEventId?: string) {
    const event = data === undefined ? new Event(type) : new MessageEvent(type, { data, lastEventId });
    for (const fn of this.listeners.get(type) ?? []) fn(event);
  }
  connect() {
    this.readyState = this.OPEN;
    this.emit('connected', '{}');
  }
  drop() {
    this.readyState = this.CONNECTING;
    this.emit('error');
  }
  refuse() {
    this.readyState = this.CLOSED;
    this.emit('error');
  }
  /** A tracked event: its id is what a re-open resumes after. */
  message(data: unknown, id: string) {
    this.emit('message', JSON.stringify(data), id);
  }
  fail(code: string) {
    this.emit('serialized-error', JSON.stringify({ message: code, code: -32001, data: { code } }));
  }
}

const open = () => FakeEventSource.opened.filter((es) => es.readyState !== es.CLOSED);
const streamsOpened = async (n: number) => waitFor(() => expect(FakeEventSource.opened.length).toBeGreaterThanOrEqual(n), { timeout: 5_000 });
const indicator = () => screen.getByTestId('live-indicator');
const expectState = (state: string) => waitFor(() => expect(indicator().dataset.state).toBe(state));
const newest = (path: string) => {
  const es = FakeEventSource.opened.findLast((s) => s.url.includes(path));
  if (!es) throw new Error(`no ${path} stream opened`);
  return es;
};
/** The newest figures stream: its `connected` event is what the shell calls live. */
const figures = () => newest('admin.live.figures');
const ledgerStreams = () => FakeEventSource.opened.filter((s) => s.url.includes('admin.live.ledger'));

async function renderShellLive(page: ReactNode = null) {
  const queryClient = createQueryClient();
  const trpcClient = createClient();
  render(
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <LiveProvider>
          <LiveIndicator />
          {page}
        </LiveProvider>
      </TRPCProvider>
    </QueryClientProvider>,
  );
  await streamsOpened(3);
  act(() => figures().connect());
  await expectState('live');
}

beforeEach(() => {
  FakeEventSource.opened = [];
  vi.stubGlobal('EventSource', FakeEventSource);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('[LIVE] the shell’s streams come back after the server does', () => {
  it('shows live once the streams are open, and reconnecting while the browser retries a dropped one', async () => {
    await renderShellLive();
    act(() => figures().drop());
    await expectState('reconnecting');
    act(() => figures().connect());
    await expectState('live');
  });

  it('re-opens every stream when the browser gives up on one (a 503 while the server restarts), and is live again once it answers', async () => {
    await renderShellLive();

    // Before the fix the subscription ended here for good: the shell said offline until a reload.
    act(() => figures().refuse());
    await expectState('reconnecting');
    expect(open()).toHaveLength(0);
    await streamsOpened(6);
    expect(open()).toHaveLength(3);
    act(() => figures().connect());
    await expectState('live');
  });

  it('stops for a refused session: offline, and nothing re-opened', async () => {
    await renderShellLive();
    act(() => figures().fail('UNAUTHORIZED'));
    await expectState('offline');
    // Longer than the first re-open would have waited.
    await new Promise((resolve) => setTimeout(resolve, reopenDelayMs(0) * 2));
    expect(FakeEventSource.opened).toHaveLength(3);
  });

  it('backs off between re-opens, doubling to at most 8 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(reopenDelayMs)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });
});

const ledgerRow = (transactionId: string): LiveLedgerRow => ({
  transactionId,
  userId: 'live-user',
  email: null,
  type: 'consumption',
  source: 'user_credits',
  creditsUsed: 1,
  creditsDelta: -1,
  balanceAfter: 9,
  costUsd: null,
  provider: null,
  enhancementType: 'upscale',
  moodboardId: null,
  reservationId: null,
  status: 'completed',
  reason: null,
  actor: null,
  idempotencyKey: `live-${transactionId}`,
  createdAt: new Date().toISOString(),
  matchedBy: null,
});

describe('[LIVE] the Live page’s ledger feed comes back after the server does, from the last row it had', () => {
  it('re-opens a feed the browser gave up on, resuming after the last event id received', async () => {
    await renderShellLive(<LivePage />);
    await waitFor(() => expect(ledgerStreams()).toHaveLength(1), { timeout: 5_000 });
    const first = newest('admin.live.ledger');
    act(() => first.connect());
    act(() => first.message({ rows: [toLiveTuple(ledgerRow('4217'))], opening: true }, '4217'));
    // Shown: the event was read before the failure below (an error drops what a stream has not yet read).
    await waitFor(() => expect(screen.getAllByTestId('live-row')).toHaveLength(1));

    // Before keepOpen the feed stayed dead here while the shell said live: no rows and no polling.
    act(() => first.refuse());
    await waitFor(() => expect(ledgerStreams()).toHaveLength(2), { timeout: 5_000 });
    const again = newest('admin.live.ledger');
    expect(again).not.toBe(first);
    expect(decodeURIComponent(again.url)).toContain('"lastEventId":"4217"');
    expect(open().filter((es) => es.url.includes('admin.live.ledger'))).toEqual([again]);
  });
});
