import { lazy } from 'react';
import { LazyPage } from '../components/LazyPage';

// The usage charts (recharts) load with the page, not with the app.
const UsageView = lazy(() => import('./usage/UsageView').then((m) => ({ default: m.UsageView })));

export function UsagePage() {
  return <LazyPage title="Usage" page={UsageView} />;
}
