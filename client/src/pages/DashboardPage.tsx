import { usePrefetchQuery, type QueryClient } from '@tanstack/react-query';
import type { TRPCClient } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import type { AppRouter } from '../../../server/trpc/root';
import { markOnce } from '../lib/marks';
import { ME_QUERY_OPTIONS, useTRPC } from '../trpc';
import { loadDailyChart } from './usage/lazy-daily-chart';

// The dashboard is the first page most loads show: its code is in the first load (19 KB gzip more),
// not a chunk fetched after it. Measured cold, the chunk and the state update or Suspense reveal that
// brought it put the figures at 0.55-0.71 s; with it here, 0.43-0.68 s. Its chart (recharts) is a chunk of its own.
import { DashboardView } from './dashboard/DashboardView';

/**
 * A cold load of `/`: the figures' query starts as soon as auth.me says an admin is signed in,
 * before React has rendered the shell (measured: it otherwise started 200 ms after auth.me had
 * answered). The chart library (recharts) comes after the figures' answer: evaluated earlier, it
 * held the main thread while they waited.
 */
export function preloadDashboard(queryClient: QueryClient, trpcClient: TRPCClient<AppRouter>) {
  const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
  void queryClient
    .fetchQuery(trpc.auth.me.queryOptions(undefined, ME_QUERY_OPTIONS))
    .then((me) => (me.mustChangePassword ? undefined : queryClient.prefetchQuery(trpc.admin.dashboard.queryOptions())))
    // A signed-out visitor: App shows the login page from the same auth.me answer.
    .catch(() => undefined)
    .finally(() => void loadDailyChart());
}

export function DashboardPage() {
  const trpc = useTRPC();
  // Reached by navigation, the figures' query starts here (a cold load of / asked for them already).
  usePrefetchQuery(trpc.admin.dashboard.queryOptions());
  markOnce('cd:dashboard-page');
  return <DashboardView />;
}
