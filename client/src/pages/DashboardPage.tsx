import { usePrefetchQuery } from '@tanstack/react-query';
import { lazy } from 'react';
import { useTRPC } from '../trpc';
import { LazyPage } from '../components/LazyPage';
import { loadDailyChart } from './usage/lazy-daily-chart';

// The dashboard's code loads with the page, not with the app; its 30-day chart (recharts) on its own.
const loadDashboardView = () => import('./dashboard/DashboardView');
const DashboardView = lazy(() => loadDashboardView().then((m) => ({ default: m.DashboardView })));

/** Starts fetching the dashboard's code and its chart's: a cold load of `/` does this before auth.me has answered. */
export function preloadDashboard() {
  void loadDashboardView();
  void loadDailyChart();
}

export function DashboardPage() {
  const trpc = useTRPC();
  // The figures' query starts with the page, in parallel with its chunk, not after the chunk has run.
  usePrefetchQuery(trpc.admin.dashboard.queryOptions());
  return <LazyPage title="Dashboard" page={DashboardView} />;
}
