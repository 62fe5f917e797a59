import { ComingSoon } from '../components/EmptyState';

export function PoolsPage() {
  return (
    <ComingSoon page="Pools">
      The platform's prepaid credit pool at each AI provider: balance, cost per credit, refill threshold and auto-refill, with purchase requests.
    </ComingSoon>
  );
}
