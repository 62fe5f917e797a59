import {
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type ColumnDef,
  type SortingState,
} from '@tanstack/react-table';
import { useState, type ReactNode } from 'react';
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
  }
}

type DataTableProps<T> = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each column has its own value type, and TanStack's ColumnDef is invariant in it (unknown does not fit)
  columns: ColumnDef<T, any>[];
  data: T[] | undefined;
  getRowId: (row: T) => string;
  loading?: boolean;
  error?: string | null;
  emptyMessage?: ReactNode;
  initialSorting?: SortingState;
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

/** A compact, sortable table over TanStack Table: header buttons sort, states render in the body. */
export function DataTable<T>({
  columns,
  data,
  getRowId,
  loading,
  error,
  emptyMessage = 'Nothing here yet.',
  initialSorting = [],
  isRowMuted,
  label,
  testId,
}: DataTableProps<T>) {
  const [sorting, setSorting] = useState<SortingState>(initialSorting);
  const table = useReactTable({
    data: data ?? NO_ROWS,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getRowId: (row) => getRowId(row),
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const colCount = table.getAllLeafColumns().length;
  const rows = table.getRowModel().rows;

  // The first page on its way: rows of grey bars in the table's own columns.
  const skeleton = !error && loading && !data;
  let status: ReactNode = null;
  if (error) status = <span className="table-error">{error}</span>;
  else if (!skeleton && rows.length === 0) status = <span className="muted">{emptyMessage}</span>;

  return (
    <div className="table-wrap">
      <table className="data-table" aria-label={label} data-testid={testId}>
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
            rows.map((row) => (
              <tr key={row.id} className={isRowMuted?.(row.original) ? 'row-muted' : undefined}>
                {row.getVisibleCells().map((cell) => {
                  const meta = cell.column.columnDef.meta;
                  return (
                    <td key={cell.id} className={meta?.mono ? 'mono' : undefined} style={{ textAlign: meta?.align ?? 'left' }}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  );
                })}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
