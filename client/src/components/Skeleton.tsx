import styles from './Skeleton.module.css';

/**
 * Grey bars where content is on its way, in the shape it will have (instead of "Loading…"):
 * `<Skeleton lines={3} />` for a card, `<SkeletonRows columns={6} />` inside a table body.
 * Announced once as "Loading" to screen readers; the bars themselves are hidden from them.
 */
const widths = ['92%', '74%', '84%', '61%', '78%'];

export function Skeleton({ lines = 3, label = 'Loading' }: { lines?: number; label?: string }) {
  return (
    <div className={styles.skeleton} role="status" aria-label={label} aria-busy="true" data-testid="skeleton">
      {Array.from({ length: lines }, (_, i) => (
        <span key={i} className={styles.bar} style={{ width: widths[i % widths.length] }} aria-hidden />
      ))}
    </div>
  );
}

/** Placeholder rows for a table whose first page is loading. */
export function SkeletonRows({ columns, rows = 5 }: { columns: number; rows?: number }) {
  return (
    <>
      {Array.from({ length: rows }, (_, r) => (
        <tr key={r} className={styles.row} aria-hidden data-testid="skeleton-row">
          {Array.from({ length: columns }, (_, c) => (
            <td key={c}>
              <span className={styles.bar} style={{ width: widths[(r + c) % widths.length] }} />
            </td>
          ))}
        </tr>
      ))}
    </>
  );
}
