import { ComingSoon } from '../components/EmptyState';

export function JobsPage() {
  return (
    <ComingSoon page="Jobs">
      Scheduled jobs (monthly reset, threshold checks, pool refills, usage summaries, reallocation): their schedules, last runs and a manual run button.
    </ComingSoon>
  );
}
