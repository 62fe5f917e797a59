/** The button under a cursor-paged table (useInfiniteQuery) that fetches its next page; nothing when there is none. */
export function LoadMore({ query, label = 'Load more' }: { query: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => Promise<unknown> }; label?: string }) {
  if (!query.hasNextPage) return null;
  return (
    <div className="load-more">
      <button type="button" className="button button-small" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
        {query.isFetchingNextPage ? 'Loading…' : label}
      </button>
    </div>
  );
}
