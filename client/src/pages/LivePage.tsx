import { useQuery } from '@tanstack/react-query';
import { useEffect, useEffectEvent, useRef, useState } from 'react';
import { Link } from 'wouter';
import type { CreditSource } from '../../../shared/credits';
import { fromLiveTuple, type LiveLedgerFilter, type LiveLedgerRow } from '../../../shared/live';
import { Delta, formatCount, formatUsd } from '../components/Amount';
import { PageHeader } from '../components/EmptyState';
import { LedgerTypeSourceFields, sourceLabels, type TransactionType } from '../components/LedgerTypeSourceFields';
import { useDebouncedValue } from '../components/SearchInput';
import { formatDateTime, formatRelative } from '../lib/format';
import { keepOpen } from '../live/keep-open';
import { POLL_MS, useLiveState } from '../live/LiveConnection';
import { useTRPC, useTRPCClient } from '../trpc';

/** The newest rows kept on screen; older ones fall off the bottom (the Ledger page has them all). */
export const LIVE_ROWS_MAX = 200;
const USER_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;
const PROVIDER_PATTERN = /^[a-z0-9_.-]{1,64}$/;

/** Newest first, each transaction once, at most LIVE_ROWS_MAX. */
function merge(rows: LiveLedgerRow[], incoming: LiveLedgerRow[]): LiveLedgerRow[] {
  const byId = new Map(rows.map((r) => [r.transactionId, r]));
  for (const r of incoming) byId.set(r.transactionId, r);
  return [...byId.values()].sort((a, b) => Number(BigInt(b.transactionId) - BigInt(a.transactionId))).slice(0, LIVE_ROWS_MAX);
}

/**
 * The ledger as it is written, across every server process: a stream filtered on the server by
 * user, type, source and provider. Pause holds new rows back (counted) until Resume; `k` toggles.
 * Without a live connection the page polls the ledger search instead.
 */
export function LivePage() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const connection = useLiveState();
  const [userText, setUserText] = useState('');
  const [type, setType] = useState<TransactionType | ''>('');
  const [source, setSource] = useState<CreditSource | ''>('');
  const [providerText, setProviderText] = useState('');
  const [paused, setPaused] = useState(false);
  const [rows, setRows] = useState<LiveLedgerRow[]>([]);
  /** The filter whose stream is open (the table says so, so nobody reads the last filter's rows for this one's). */
  const [openFor, setOpenFor] = useState<string | null>(null);
  const shown = useRef(new Set<string>());
  shown.current = new Set(rows.map((r) => r.transactionId));
  const held = useRef<LiveLedgerRow[]>([]);
  const [heldCount, setHeldCount] = useState(0);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  const userId = useDebouncedValue(userText.trim(), 300);
  const provider = useDebouncedValue(providerText.trim().toLowerCase(), 300);
  const filterError =
    userId && !USER_PATTERN.test(userId)
      ? 'A user id has letters, digits and _ . : @ - only'
      : provider && !PROVIDER_PATTERN.test(provider)
        ? 'A provider name has lower-case letters, digits and _ . - only'
        : null;
  const filter: LiveLedgerFilter = { userId: userId || undefined, type: type || undefined, source: source || undefined, provider: provider || undefined };
  const filterKey = JSON.stringify(filter);

  const accept = (incoming: LiveLedgerRow[]) => {
    if (!incoming.length) return;
    if (pausedRef.current) {
      held.current = merge(
        held.current,
        incoming.filter((r) => !shown.current.has(r.transactionId)),
      );
      setHeldCount(held.current.length);
    } else {
      setRows((r) => merge(r, incoming));
    }
  };

  // Effect events: the stream and the poll hand rows over without re-subscribing when `accept` is re-made.
  const acceptRows = useEffectEvent(accept);
  const offline = connection === 'offline';
  // The stream: re-opened for each filter. It reconnects by itself, resuming after its last row, and
  // when the browser gave up on it (keepOpen) it is opened again from that row too.
  useEffect(() => {
    setRows([]);
    setOpenFor(null);
    held.current = [];
    setHeldCount(0);
    if (filterError || offline) return;
    const filter = JSON.parse(filterKey) as LiveLedgerFilter;
    let lastEventId: string | null = null;
    // A refused session is the shell's to handle (it sends the app to sign-in).
    return keepOpen(({ failed, opened }) =>
      // The opening rows of a new filter are shown even while paused: only what comes after is held.
      client.admin.live.ledger.subscribe(
        { ...filter, lastEventId },
        {
          onStarted: () => {
            opened();
            setOpenFor(filterKey);
          },
          onError: failed,
          onData: ({ id, data }) => {
            lastEventId = id;
            const batch = data.rows.map(fromLiveTuple);
            if (data.opening) setRows((r) => merge(r, batch));
            else acceptRows(batch);
          },
        },
      ),
    );
  }, [client, filterKey, filterError, offline]);

  // The fallback: the newest matching rows from the ledger search, every POLL_MS.
  const polled = useQuery(
    trpc.admin.ledger.search.queryOptions(
      { page: 0, pageSize: 50, query: filter.userId, type: filter.type, source: filter.source, provider: filter.provider },
      { enabled: connection === 'offline' && !filterError, refetchInterval: POLL_MS },
    ),
  );
  // Runs when a poll answers; the connection and filter are read as they are then, not followed.
  const onPolled = useEffectEvent((data: typeof polled.data) => {
    if (offline) setOpenFor(filterKey);
    if (data && offline) accept(data.rows);
  });
  useEffect(() => onPolled(polled.data), [polled.data]);

  const togglePause = () => {
    if (pausedRef.current) {
      const waiting = held.current;
      setRows((r) => merge(r, waiting));
      held.current = [];
      setHeldCount(0);
    }
    setPaused((p) => !p);
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'k' || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if ((t && (['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || t.isContentEditable)) || document.querySelector('dialog[open]')) return;
      e.preventDefault();
      togglePause();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const filtered = !!(userText.trim() || type || source || providerText.trim());
  return (
    <div className="page page-wide">
      <PageHeader title="Live" description="Credit transactions as they are written, on every server. Filtered on the server; the newest 200 stay on screen." />
      <section className="section" aria-label="Live ledger">
        <div className="toolbar live-toolbar">
          <label className="toolbar-field">
            <span>User</span>
            <input value={userText} onChange={(e) => setUserText(e.target.value)} placeholder="any user id" aria-label="User id" spellCheck={false} autoComplete="off" />
          </label>
          <LedgerTypeSourceFields type={type} source={source} onType={setType} onSource={setSource} />
          <label className="toolbar-field">
            <span>Provider</span>
            <input
              value={providerText}
              onChange={(e) => setProviderText(e.target.value)}
              placeholder="any"
              aria-label="Provider"
              spellCheck={false}
              autoComplete="off"
              className="ledger-provider-input"
            />
          </label>
          {filtered && (
            <button type="button" className="button button-small" onClick={() => (setUserText(''), setType(''), setSource(''), setProviderText(''))}>
              Clear
            </button>
          )}
          <span className="toolbar-spacer" />
          {paused && heldCount > 0 && (
            <span className="chip live-held" data-testid="live-held">
              {formatCount(heldCount)} new
            </span>
          )}
          <button
            type="button"
            className={paused ? 'button button-small button-primary' : 'button button-small'}
            onClick={togglePause}
            title={paused ? 'Resume (k)' : 'Pause (k)'}
            data-testid="live-pause"
          >
            {paused ? 'Resume' : 'Pause'}
          </button>
        </div>
        {filterError && (
          <div className="alert alert-error" role="alert">
            {filterError}
          </div>
        )}
        <div className="table-wrap table-dense">
          <table className="data-table live-table" data-testid="live-table" data-open-for={openFor ?? ''} aria-label="Live ledger">
            <thead>
              <tr>
                <th style={{ width: 60 }}>#</th>
                <th style={{ width: 140 }}>Time</th>
                <th style={{ width: 180 }}>User</th>
                <th style={{ width: 110 }}>Type</th>
                <th style={{ width: 110 }}>Source</th>
                <th style={{ width: 70 }} className="num">
                  Change
                </th>
                <th style={{ width: 70 }} className="num">
                  Balance
                </th>
                <th style={{ width: 80 }} className="num">
                  Cost
                </th>
                <th style={{ width: 90 }}>Provider</th>
                <th>Key · reason</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr className="status-row">
                  <td colSpan={10} className="muted">
                    {connection === 'live' || connection === 'offline' ? (filtered ? 'No transactions match yet; new ones appear here.' : 'Waiting for transactions…') : 'Connecting…'}
                  </td>
                </tr>
              )}
              {rows.map((r) => (
                <tr key={r.transactionId} data-testid="live-row" data-id={r.transactionId}>
                  <td className="mono">{r.transactionId}</td>
                  <td>
                    <time dateTime={r.createdAt} title={formatRelative(r.createdAt)}>
                      {formatDateTime(r.createdAt)}
                    </time>
                  </td>
                  <td>
                    <Link href={`/users?user=${encodeURIComponent(r.userId)}`} className="mono cell-ellipsis ledger-user" title={r.email ?? r.userId}>
                      {r.userId}
                    </Link>
                  </td>
                  <td className="strong">{r.type.replace('_', ' ')}</td>
                  <td>{r.source ? sourceLabels[r.source] : <span className="muted">—</span>}</td>
                  <td className="num">
                    <Delta value={r.creditsDelta} />
                  </td>
                  <td className="num">{formatCount(r.balanceAfter)}</td>
                  <td className="num">{r.costUsd ? formatUsd(r.costUsd) : <span className="muted">—</span>}</td>
                  <td className="mono">{r.provider ?? <span className="muted">—</span>}</td>
                  <td className="mono">{[r.idempotencyKey, r.reason, r.actor ? `by ${r.actor}` : null].filter(Boolean).join(' · ') || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
