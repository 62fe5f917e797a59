import { Link } from 'wouter';
import { isAdmin, useMe } from '../auth';
import { EmptyState, PageHeader } from '../components/EmptyState';

export function DashboardPage() {
  const me = useMe();
  return (
    <div className="page">
      <PageHeader title="Dashboard" description={`Signed in as ${me.email}.`} />
      <EmptyState title="Coming in a later release">
        <p>
          Credits consumed today, pool balances against their thresholds, provider health and open alerts will
          appear here.
        </p>
        {isAdmin(me) && (
          <p>
            Meanwhile, product apps need an API key: create one in <Link href="/settings">Settings</Link>.
          </p>
        )}
      </EmptyState>
    </div>
  );
}
