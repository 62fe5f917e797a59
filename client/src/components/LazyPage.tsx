import { Component, createElement, lazy, Suspense, type ComponentType, type ReactNode } from 'react';
import { PageHeader } from './EmptyState';
import { Skeleton } from './Skeleton';

/**
 * A page whose code (and its charts) loads on first visit: a placeholder with the page's title
 * while the chunk loads, and a way out if it cannot load (a new release replaced the chunk).
 */
export function LazyPage({ title, page: Page }: { title: string; page: ComponentType }) {
  return (
    <ChunkErrorBoundary title={title}>
      <Suspense
        fallback={
          <div className="page page-wide" aria-busy="true">
            <PageHeader title={title} />
            <Skeleton lines={5} />
          </div>
        }
      >
        <Page />
      </Suspense>
    </ChunkErrorBoundary>
  );
}

/** A route's page as its own chunk, fetched on the first visit: the first load carries only the app's frame and the dashboard. */
export function lazyPage(title: string, load: () => Promise<ComponentType>): ComponentType {
  const Page = lazy(() => load().then((page) => ({ default: page })));
  return function LazyRoute() {
    return createElement(LazyPage, { title, page: Page });
  };
}

class ChunkErrorBoundary extends Component<{ title: string; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div className="page">
        <PageHeader title={this.props.title} />
        <div className="alert alert-error" role="alert">
          This page could not be loaded. A new version may have been released.{' '}
          <button type="button" className="button button-small" onClick={() => window.location.reload()}>
            Reload
          </button>
        </div>
      </div>
    );
  }
}
