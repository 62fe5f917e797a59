import {
  flexRender,
  functionalUpdate,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type SortingState,
} from '@tanstack/react-table';
import type { KeyboardEvent, ReactNode } from 'react';
import { formatCount } from './Amount';
import { SkeletonRows } from './Skeleton';

type ServerTableProps<T> = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each column has its own value type, and TanStack's ColumnDef is invariant in it (unknown does not fit)
  columns: ColumnDef<T, any>[];
  /** One page of rows, already sorted and filtered by the server. */
  data: T[] | undefined;
  getRowId: (row: T) => string;
  /** The server's sort order; header clicks ask for a new one. Omit for a table that cannot be sorted. */
  sorting?: SortingState;
  onSortingChange?: (sorting: SortingState) => void;
  loading?: boolean;
  /** A newer page is on its way: the current rows stay, dimmed. */
  refreshing?: boolean;
  error?: string | null;
  emptyMessage?: ReactNode;
  /** Makes rows clickable (and focusable: Enter opens them). */
  onRowClick?: (row: T) => void;
  selectedRowId?: string | null;
  rowLabel?: (row: T) => string;
  isRowMuted?: (row: T) => boolean;
  label: string;
  testId?: string;
};

declare module '@tanstack/react-table' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a merged declaration must repeat TanStack's type parameters, used or not
  interface ColumnMeta<TData, TValue> {
    /** Takes the width the other columns leave, cutting its text with an ellipsis (ServerTable only). */
    grow?: boolean;
  }
}

const NO_ROWS: never[] = [];

const cellClass = (meta: { mono?: boolean; grow?: boolean } | undefined) =>
  [meta?.mono ? 'mono' : '', meta?.grow ? 'cell-grow' : ''].filter(Boolean).join(' ') || undefined;

/**
 * The DataTable look for data the server pages and sorts: sorting is controlled (manual), a click
 * on a sortable header toggles ascending/descending, and rows can open a detail view.
 */
export function ServerTable<T>({
  columns,
  data,
  getRowId,
  sorting,
  onSortingChange,
  loading,
  refreshing,
  error,
  emptyMessage = 'Nothing here yet.',
  onRowClick,
  selectedRowId,
  rowLabel,
  isRowMuted,
  label,
  testId,
}: ServerTableProps<T>) {
  const table = useReactTable({
    data: data ?? NO_ROWS,
    columns,
    state: { sorting: sorting ?? NO_ROWS },
    manualSorting: true,
    enableSorting: !!onSortingChange,
    enableSortingRemoval: false,
    enableMultiSort: false,
    sortDescFirst: false,
    onSortingChange: (updater) => onSortingChange?.(functionalUpdate(updater, sorting ?? [])),
    getRowId: (row) => getRowId(row),
    getCoreRowModel: getCoreRowModel(),
  });
  const colCount = table.getAllLeafColumns().length;
  const rows = table.getRowModel().rows;

  // The first page on its way: rows of grey bars in the table's own columns.
  const skeleton = !error && loading && !data;
  let status: ReactNode = null;
  if (error) status = <span className="table-error">{error}</span>;
  else if (!skeleton && rows.length === 0) status = <span className="muted">{emptyMessage}</span>;

  const onRowKey = (e: KeyboardEvent<HTMLTableRowElement>, row: T) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onRowClick?.(row);
    }
  };

  return (
    <div className={refreshing ? 'table-wrap table-refreshing' : 'table-wrap'} aria-busy={refreshing || undefined}>
      <table className={onRowClick ? 'data-table data-table-clickable' : 'data-table'} aria-label={label} data-testid={testId}>
        <thead>
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {hg.headers.map((header) => {
                const meta = header.column.columnDef.meta;
                const sorted = header.column.getIsSorted();
                const content = header.isPlaceholder ? null : flexRender(header.column.columnDef.header, header.getContext());
                return (
                  <th
                    key={header.id}
                    className={meta?.grow ? 'cell-grow' : undefined}
                    style={{ width: meta?.width, textAlign: meta?.align ?? 'left' }}
                    aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}
                  >
                    {header.column.getCanSort() ? (
                      <button type="button" className="sort-button" onClick={header.column.getToggleSortingHandler()}>
                        {content}
                        <span className="sort-indicator" aria-hidden>
                          {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : ''}
                        </span>
                      </button>
                    ) : (
                      content
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody aria-busy={skeleton || undefined}>
          {skeleton ? (
            <SkeletonRows columns={colCount} />
          ) : status ? (
            <tr className="status-row">
              <td colSpan={colCount}>{status}</td>
            </tr>
          ) : (
            rows.map((row) => {
              const selected = selectedRowId != null && row.id === selectedRowId;
              const classes = [isRowMuted?.(row.original) ? 'row-muted' : '', selected ? 'row-selected' : ''].filter(Boolean).join(' ');
              return (
                <tr
                  key={row.id}
                  data-row-id={row.id}
                  className={classes || undefined}
                  {...(onRowClick
                    ? {
                        tabIndex: 0,
                        'aria-current': selected ? ('true' as const) : undefined,
                        'aria-label': rowLabel?.(row.original),
                        onClick: (e) => {
                          // Buttons and links inside the row keep their own meaning.
                          if ((e.target as HTMLElement).closest('button, a, input, select')) return;
                          onRowClick(row.original);
                        },
                        onKeyDown: (e) => onRowKey(e, row.original),
                      }
                    : {})}
                >
                  {row.getVisibleCells().map((cell) => {
                    const meta = cell.column.columnDef.meta;
                    return (
                      <td key={cell.id} className={cellClass(meta)} style={{ textAlign: meta?.align ?? 'left' }}>
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </td>
                    );
                  })}
                </tr>
              );
            })
          )}
        </tbody>
      </table>
    </div>
  );
}

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
