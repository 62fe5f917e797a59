import { ComingSoon } from '../components/EmptyState';

export function ProvidersPage() {
  return (
    <ComingSoon page="Providers">
      The AI providers in priority order, their health and circuit-breaker state, encrypted API keys, and graceful-degradation settings.
    </ComingSoon>
  );
}
