import { Link } from 'wouter';
import { EmptyState, PageHeader } from '../components/EmptyState';

export function NotFoundPage() {
  return (
    <div className="page">
      <PageHeader title="Not found" />
      <EmptyState title="There is no page at this address">
        <p>
          Go back to the <Link href="/">Dashboard</Link>.
        </p>
      </EmptyState>
    </div>
  );
}
