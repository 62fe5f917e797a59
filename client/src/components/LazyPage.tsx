import { Component, createElement, lazy, Suspense, useEffect, useState, type ComponentType, type ReactNode } from 'react';
import { PageHeader } from './EmptyState';
import { Skeleton } from './Skeleton';

/**
 * A page whose code (and its charts) loads on first visit: a placeholder with the page's title
 * while the chunk loads, and a way out if it cannot load (a new release replaced the chunk).
 */
export function LazyPage({ title, page: Page }: { title: string; page: ComponentType }) {
  return (
    <ChunkErrorBoundary title={title}>
      <Suspense fallback={<PageFallback title={title} />}>
        <Page />
      </Suspense>
    </ChunkErrorBoundary>
  );
}

/** What a page shows while its chunk loads: its title and a skeleton. */
function PageFallback({ title }: { title: string }) {
  return (
    <div className="page page-wide" aria-busy="true">
      <PageHeader title={title} />
      <Skeleton lines={5} />
    </div>
  );
}

/** Pages already loaded, by their loader: a second visit renders at once, with no placeholder frame. */
const loadedPages = new WeakMap<() => Promise<ComponentType>, ComponentType>();

/**
 * The same as LazyPage, without Suspense: the page's component arrives as a state update. React 19
 * holds back the content of a Suspense boundary that showed its fallback for at least 300 ms
 * (measured: the dashboard's figures, answered and rendered, were painted 165 ms late), which a
 * page that must appear at once cannot afford.
 */
export function LoadedPage({ title, load }: { title: string; load: () => Promise<ComponentType> }) {
  const [state, setState] = useState<{ page: ComponentType } | 'loading' | 'failed'>(() => {
    const page = loadedPages.get(load);
    return page ? { page } : 'loading';
  });
  useEffect(() => {
    if (loadedPages.has(load)) return;
    let live = true;
    load().then(
      (page) => {
        loadedPages.set(load, page);
        if (live) setState({ page });
      },
      () => live && setState('failed'),
    );
    return () => {
      live = false;
    };
  }, [load]);
  if (state === 'failed') return <ChunkFailed title={title} />;
  if (state === 'loading') return <PageFallback title={title} />;
  return <state.page />;
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
    return <ChunkFailed title={this.props.title} />;
  }
}

function ChunkFailed({ title }: { title: string }) {
  return (
    <div className="page">
      <PageHeader title={title} />
      <div className="alert alert-error" role="alert">
        This page could not be loaded. A new version may have been released.{' '}
        <button type="button" className="button button-small" onClick={() => window.location.reload()}>
          Reload
        </button>
      </div>
    </div>
  );
}
