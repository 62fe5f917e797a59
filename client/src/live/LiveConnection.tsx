import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { isMeQuery, useTRPC, useTRPCClient } from '../trpc';
import { keepOpen } from './keep-open';
import styles from './LiveConnection.module.css';

/** live: the streams are open; reconnecting: one dropped and is being re-opened; offline: polling instead. */
export type LiveState = 'live' | 'reconnecting' | 'offline';

/** Past this long without a stream, the shell says offline (and the pages keep polling meanwhile). */
const OFFLINE_AFTER_MS = 15_000;
/** How often the dashboard is re-read while the streams are down. */
export const POLL_MS = 5_000;

const LiveContext = createContext<LiveState>('offline');
export const useLiveState = () => useContext(LiveContext);
export const sseSupported = () => typeof EventSource !== 'undefined';

/**
 * Opens the shell's live streams once per signed-in session: the dashboard figures are written into
 * the admin.dashboard cache as they arrive (the page re-renders in place, nothing refetches), and a
 * provider or alert change refreshes the queries that show them. While the streams are down the
 * dashboard is polled instead; a stream refused for the session sends the app back to sign-in.
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const client = useTRPCClient();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>(sseSupported() ? 'reconnecting' : 'offline');

  useEffect(() => {
    if (!sseSupported()) return;
    let offlineTimer: ReturnType<typeof setTimeout> | undefined;
    const live = () => {
      clearTimeout(offlineTimer);
      offlineTimer = undefined;
      setState('live');
    };
    const down = () => {
      setState((s) => (s === 'offline' ? s : 'reconnecting'));
      offlineTimer ??= setTimeout(() => setState('offline'), OFFLINE_AFTER_MS);
    };
    const refresh = () => {
      void queryClient.invalidateQueries(trpc.admin.dashboard.queryFilter());
      void queryClient.invalidateQueries(trpc.admin.providers.pathFilter());
      void queryClient.invalidateQueries(trpc.admin.alerts.pathFilter());
    };
    // The first snapshot repeats what the pages just loaded; a later one follows a reconnect.
    const seenSnapshot = { providers: false, alerts: false };

    // The three streams fail and re-open together: one dropped for good means the server went away.
    const close = keepOpen(
      ({ failed, opened }) => {
        const started = () => {
          opened();
          live();
        };
        const subs = [
          client.admin.live.figures.subscribe(undefined, {
            onStarted: started,
            onConnectionStateChange: (s) => (s.state === 'pending' ? started() : s.state === 'connecting' ? down() : undefined),
            onError: failed,
            onData: ({ data }) => {
              live();
              queryClient.setQueryData(trpc.admin.dashboard.queryKey(), (old) => (old ? { ...old, ...data, generatedAt: new Date().toISOString() } : old));
            },
          }),
          client.admin.live.providers.subscribe(undefined, {
            onError: failed,
            onData: ({ data }) => {
              if (data.kind === 'snapshot' && !seenSnapshot.providers) seenSnapshot.providers = true;
              else refresh();
            },
          }),
          client.admin.live.alerts.subscribe(undefined, {
            onError: failed,
            onData: ({ data }) => {
              if (data.kind === 'snapshot' && !seenSnapshot.alerts) seenSnapshot.alerts = true;
              else refresh();
            },
          }),
        ];
        return { unsubscribe: () => subs.forEach((sub) => sub.unsubscribe()) };
      },
      (refused) => {
        if (!refused) return down();
        // A refused session: auth.me decides again, which shows the login page.
        void queryClient.invalidateQueries({ predicate: (q) => isMeQuery(q.queryKey) });
        clearTimeout(offlineTimer);
        setState('offline');
      },
    );
    return () => {
      clearTimeout(offlineTimer);
      close();
    };
  }, [client, trpc, queryClient]);

  // The polling fallback: without a stream the dashboard's figures are re-read every POLL_MS.
  useEffect(() => {
    if (state === 'live') return;
    const timer = setInterval(() => void queryClient.invalidateQueries(trpc.admin.dashboard.queryFilter()), POLL_MS);
    return () => clearInterval(timer);
  }, [state, queryClient, trpc]);

  return <LiveContext.Provider value={state}>{children}</LiveContext.Provider>;
}

const labels: Record<LiveState, { text: string; title: string }> = {
  live: { text: 'Live', title: 'Figures and the ledger update as they change' },
  reconnecting: { text: 'Reconnecting…', title: 'The live connection dropped; re-opening it (figures are polled meanwhile)' },
  offline: { text: 'Offline · polling', title: 'No live connection: figures are re-read every few seconds' },
};

/** The shell's connection indicator. */
export function LiveIndicator() {
  const state = useLiveState();
  return (
    <span className={`${styles.indicator} ${styles[state]}`} data-testid="live-indicator" data-state={state} role="status" title={labels[state].title}>
      <span className={styles.dot} aria-hidden />
      {labels[state].text}
    </span>
  );
}
