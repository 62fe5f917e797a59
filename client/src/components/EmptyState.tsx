import type { ReactNode } from 'react';
import styles from './EmptyState.module.css';

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className={styles.emptyState}>
      <h2>{title}</h2>
      {children && <div className="empty-state-body">{children}</div>}
    </div>
  );
}

/** What a section shows until the release that builds it. */
export function ComingSoon({ page, children }: { page: string; children: ReactNode }) {
  return (
    <div className="page">
      <PageHeader title={page} />
      <EmptyState title="Coming in a later release">
        <p>{children}</p>
      </EmptyState>
    </div>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {description && <p className="page-description">{description}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}
