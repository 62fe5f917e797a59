import { ComingSoon } from '../components/EmptyState';

export function UsagePage() {
  return (
    <ComingSoon page="Usage">
      Usage and cost trends by day, tier and provider, forecasts, and CSV export for analysts.
    </ComingSoon>
  );
}
