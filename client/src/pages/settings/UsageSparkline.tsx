import { lazy, Suspense } from 'react';
import type { ApiKeyUsageView } from '../../../../shared/auth';

// recharts is the SPA's largest dependency: a static import here put it in the first load of every page.
const UsageSparklineBars = lazy(() => import('./UsageSparklineBars').then((m) => ({ default: m.UsageSparklineBars })));

/** A key's calls per day over the last 30 days, as a row-sized bar chart with the total beside it. */
export function UsageSparkline({ usage }: { usage: ApiKeyUsageView | undefined }) {
  if (!usage) return <span className="muted">—</span>;
  const label = `${usage.total.toLocaleString()} calls in the last 30 days`;
  return (
    <span className="usage-sparkline" role="img" aria-label={label} title={label} data-testid="usage-sparkline">
      <Suspense fallback={<span className="usage-sparkline-bars" />}>
        <UsageSparklineBars days={usage.days} />
      </Suspense>
      <span className="usage-total">{usage.total.toLocaleString()}</span>
    </span>
  );
}
