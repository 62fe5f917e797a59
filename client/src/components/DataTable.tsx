import { flexRender, functionalUpdate, getCoreRowModel, getSortedRowModel, useReactTable, type ColumnDef, type SortingState, type TableOptions } from '@tanstack/react-table';
import { useState, type KeyboardEvent, type ReactNode } from 'react';
import { SkeletonRows } from './Skeleton';

declare module '@tanstack/react-table' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a merged declaration must repeat TanStack's type parameters, used or not
  interface ColumnMeta<TData, TValue> {
    /** Right-aligns numbers, keeps actions compact. */
    align?: 'left' | 'right';
    /** Column width in px (tables use a fixed layout only where a width is given). */
    width?: number;
    /** Monospace cell (ids, key prefixes). */
    mono?: boolean;
    /** Takes the width the other columns leave, cutting its text with an ellipsis. */
    grow?: boolean;
  }
}

type DataTableProps<T> = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each column has its own value type, and TanStack's ColumnDef is invariant in it (unknown does not fit)
  columns: ColumnDef<T, any>[];
  /** All rows (sorted here), or with `manual` one page of rows already sorted and filtered by the server. */
  data: T[] | undefined;
  getRowId: (row: T) => string;
  /**
   * The server pages and sorts: `sorting` is the server's order and a header click asks for a new
   * one through `onSortingChange` (ascending/descending, one column); without `onSortingChange`
   * the table cannot be sorted. Without `manual` the table sorts its rows itself from `initialSorting`.
   */
  manual?: boolean;
  sorting?: SortingState;
  onSortingChange?: (sorting: SortingState) => void;
  initialSorting?: SortingState;
  loading?: boolean;
  /** A newer page is on its way: the current rows stay, dimmed. */
  refreshing?: boolean;
  error?: string | null;
  emptyMessage?: ReactNode;
  /** Makes rows clickable (and focusable: Enter opens them). */
  onRowClick?: (row: T) => void;
  selectedRowId?: string | null;
  rowLabel?: (row: T) => string;
  /** Dims a row (revoked keys, disabled accounts). */
  isRowMuted?: (row: T) => boolean;
  label: string;
  testId?: string;
};

/**
 * One empty array for every table while its data loads: a fresh `[]` each render would make
 * TanStack Table recompute its row models, auto-reset its state and render again, forever.
 */
const NO_ROWS: never[] = [];

const cellClass = (meta: { mono?: boolean; grow?: boolean } | undefined) => [meta?.mono ? 'mono' : '', meta?.grow ? 'cell-grow' : ''].filter(Boolean).join(' ') || undefined;

/** How the table sorts: by itself over all its rows, or (manual) by asking the server for a new order. */
function useSortingOptions<T>({ manual, sorting, onSortingChange, initialSorting }: DataTableProps<T>): Partial<TableOptions<T>> {
  const [ownSorting, setOwnSorting] = useState<SortingState>(initialSorting ?? NO_ROWS);
  if (!manual) return { state: { sorting: ownSorting }, onSortingChange: setOwnSorting, getSortedRowModel: getSortedRowModel() };
  return {
    state: { sorting: sorting ?? NO_ROWS },
    manualSorting: true,
    enableSorting: !!onSortingChange,
    enableSortingRemoval: false,
    enableMultiSort: false,
    sortDescFirst: false,
    onSortingChange: (updater) => onSortingChange?.(functionalUpdate(updater, sorting ?? [])),
  };
}

/**
 * A compact table over TanStack Table: header buttons sort, loading/error/empty states render in
 * the body, rows can open a detail view. Client-side sorting by default, server-side with `manual`.
 */
export function DataTable<T>(props: DataTableProps<T>) {
  const { columns, data, getRowId, loading, refreshing, error, emptyMessage = 'Nothing here yet.', onRowClick, selectedRowId, rowLabel, isRowMuted, label, testId } = props;
  const table = useReactTable({
    data: data ?? NO_ROWS,
    columns,
    getRowId: (row) => getRowId(row),
    getCoreRowModel: getCoreRowModel(),
    ...useSortingOptions(props),
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
