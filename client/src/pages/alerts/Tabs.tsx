import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export type Tab<K extends string> = { key: K; label: ReactNode };

/** A row of tabs (WAI-ARIA tabs pattern): arrow keys move between them, Home/End jump to the ends. */
export function Tabs<K extends string>({ tabs, current, onChange, label, idPrefix }: { tabs: Tab<K>[]; current: K; onChange: (key: K) => void; label: string; idPrefix: string }) {
  const refs = useRef<Partial<Record<K, HTMLButtonElement | null>>>({});
  const onKey = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.key === current);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabs.length - 1;
    if (next < 0) return;
    e.preventDefault();
    const key = tabs[next]!.key;
    onChange(key);
    refs.current[key]?.focus();
  };
  return (
    <div className="alerts-tabs" role="tablist" aria-label={label}>
      {tabs.map((t) => {
        const selected = t.key === current;
        return (
          <button
            key={t.key}
            ref={(el) => {
              refs.current[t.key] = el;
            }}
            type="button"
            role="tab"
            id={`${idPrefix}-tab-${t.key}`}
            aria-selected={selected}
            aria-controls={`${idPrefix}-panel-${t.key}`}
            tabIndex={selected ? 0 : -1}
            className={selected ? 'alerts-tab alerts-tab-active' : 'alerts-tab'}
            onClick={() => onChange(t.key)}
            onKeyDown={onKey}
          >
            {t.label}
          </button>
        );
      })}
    </div>
  );
}

export function TabPanel({ idPrefix, tab, children }: { idPrefix: string; tab: string; children: ReactNode }) {
  return (
    <div role="tabpanel" id={`${idPrefix}-panel-${tab}`} aria-labelledby={`${idPrefix}-tab-${tab}`}>
      {children}
    </div>
  );
}
