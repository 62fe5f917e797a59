import { usePrefetchQuery, type QueryClient } from '@tanstack/react-query';
import type { TRPCClient } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import type { AppRouter } from '../../../server/trpc/root';
import { ME_QUERY_OPTIONS, useTRPC } from '../trpc';
import { LoadedPage } from '../components/LazyPage';
import { loadDailyChart } from './usage/lazy-daily-chart';

// The dashboard's code loads with the page, not with the app; its 30-day chart (recharts) on its own.
const loadDashboardView = () => import('./dashboard/DashboardView').then((m) => m.DashboardView);

/**
 * A cold load of `/`: the dashboard's code is fetched while auth.me answers, and its figures' query
 * as soon as auth.me says an admin is signed in, before React has rendered the shell (measured:
 * the query otherwise started 200 ms after auth.me had answered). The chart library (recharts)
 * comes after the figures' answer: evaluated earlier, it held the main thread while they waited.
 */
export function preloadDashboard(queryClient: QueryClient, trpcClient: TRPCClient<AppRouter>) {
  void loadDashboardView();
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
  // The figures' query starts with the page, in parallel with its chunk, not after the chunk has run.
  usePrefetchQuery(trpc.admin.dashboard.queryOptions());
  if (!performance.getEntriesByName('cd:dashboard-page').length) performance.mark('cd:dashboard-page');
  return <LoadedPage title="Dashboard" load={loadDashboardView} />;
}
