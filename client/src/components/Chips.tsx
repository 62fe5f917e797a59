import type { ReactNode } from 'react';
import styles from './Chips.module.css';

/** A row of small labels (an API key's scopes, a webhook's events), each with an optional tooltip. */
export function Chips<T extends string>({ values, label = (v) => v, title }: { values: readonly T[]; label?: (v: T) => ReactNode; title?: (v: T) => string }) {
  return (
    <span className={styles.chips}>
      {values.map((v) => (
        <span key={v} className="chip" title={title?.(v)}>
          {label(v)}
        </span>
      ))}
    </span>
  );
}
