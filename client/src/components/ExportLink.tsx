import type { ExportFilter, ExportName } from '../../../shared/exports';

/** `/export/<name>.csv?<filters>`, leaving out filters that are not set. */
export function exportUrl<N extends ExportName>(name: N, filter: ExportFilter<N>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `/export/${name}.csv${qs ? `?${qs}` : ''}`;
}

/**
 * Downloads what the table shows, every page of it, as CSV: a plain link, so the browser streams
 * the file to disk however large it is (the session cookie goes with it).
 */
export function ExportLink<N extends ExportName>({ name, filter, disabled }: { name: N; filter: ExportFilter<N>; disabled?: boolean }) {
  if (disabled) {
    return (
      <button type="button" className="button button-small" disabled title="Fix the filters to export">
        Export CSV
      </button>
    );
  }
  return (
    <a className="button button-small" href={exportUrl(name, filter)} download title="Every row these filters match, as CSV">
      Export CSV
    </a>
  );
}
