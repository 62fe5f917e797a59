import { ComingSoon } from '../components/EmptyState';

export function AlertsPage() {
  return (
    <ComingSoon page="Alerts">
      Threshold alerts and their channels (Slack, email, SMS webhook, in-app), with the history of alerts sent.
    </ComingSoon>
  );
}
