import { lazy } from 'react';
import { LazyPage } from './dashboard/LazyPage';

// The dashboard's charts (recharts) load with the page, not with the app.
const DashboardView = lazy(() => import('./dashboard/DashboardView').then((m) => ({ default: m.DashboardView })));

export function DashboardPage() {
  return <LazyPage title="Dashboard" page={DashboardView} />;
}
