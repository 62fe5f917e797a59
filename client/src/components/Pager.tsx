import { formatCount } from './Amount';

/** `1–50 of 1,234` with first / previous / next / last; nothing to page through shows the count alone. */
export function Pager({
  page,
  pageSize,
  total,
  onPage,
  noun = 'rows',
  totalExact = true,
}: {
  page: number;
  pageSize: number;
  total: number | undefined;
  /** False when `total` is a lower bound (the server stopped counting there): shown with a "+". */
  totalExact?: boolean;
  onPage: (page: number) => void;
  noun?: string;
}) {
  if (total === undefined) return null;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const from = total === 0 ? 0 : page * pageSize + 1;
  const to = Math.min(total, (page + 1) * pageSize);
  const plus = totalExact ? '' : '+';
  return (
    <nav className="pager" aria-label={`Pages of ${noun}`}>
      <span className="pager-count" data-testid="pager-count">
        {total === 0 ? `0 ${noun}` : `${formatCount(from)}–${formatCount(to)} of ${formatCount(total)}${plus} ${noun}`}
      </span>
      {pages > 1 && (
        <span className="pager-buttons">
          <button type="button" className="button button-small" onClick={() => onPage(0)} disabled={page === 0} aria-label="First page">
            «
          </button>
          <button type="button" className="button button-small" onClick={() => onPage(page - 1)} disabled={page === 0} aria-label="Previous page">
            ‹ Prev
          </button>
          <span className="pager-page">
            Page {page + 1} of {formatCount(pages)}
            {plus}
          </span>
          <button type="button" className="button button-small" onClick={() => onPage(page + 1)} disabled={page >= pages - 1} aria-label="Next page">
            Next ›
          </button>
          <button type="button" className="button button-small" onClick={() => onPage(pages - 1)} disabled={page >= pages - 1} aria-label="Last page">
            »
          </button>
        </span>
      )}
    </nav>
  );
}
