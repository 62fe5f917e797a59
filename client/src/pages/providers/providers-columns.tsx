import { createColumnHelper } from '@tanstack/react-table';
import type { ProviderView } from '../../../../shared/providers';
import { formatCount, formatUsd } from '../../components/Amount';
import { formatDateTime, formatRelative } from '../../lib/format';
import { formatRate, rateClass } from '../dashboard/format';
import { CircuitBadge, HealthDot } from './badges';
import { kindLabels } from './ProviderDialog';

const col = createColumnHelper<ProviderView>();

export type EditState = { open: false } | { open: true; provider: ProviderView | null };
/** Where focus goes once a moved row has re-rendered in its new place. */
export type Refocus = { name: string; target: 'row' | 'up' | 'down' };

/** `35 ms`, `1.2 s`, `12 s`: a provider's latency. */
export const duration = (ms: number) => (ms >= 10_000 ? `${Math.round(ms / 1000)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${formatCount(ms)} ms`);

type ProviderColumnsContext = {
  admin: boolean;
  /** Providers in the fallback order (archived ones are not). */
  count: number;
  reorderPending: boolean;
  move: (name: string, by: -1 | 1, target: Refocus['target']) => void;
  /** Providers whose last error is shown whole. */
  expanded: ReadonlySet<string>;
  toggleExpanded: (name: string) => void;
  /** Providers with a health check on its way. */
  testing: ReadonlySet<string>;
  runTest: (input: { name: string }) => void;
  onToggle: (provider: ProviderView) => void;
  onArchive: (archiving: { provider: ProviderView; restore: boolean }) => void;
  onEdit: (edit: EditState) => void;
};

/** The providers table's columns: the fallback order with its move buttons, health, cost, pool and the admin's actions. */
export function providerColumns({ admin, count, reorderPending, move, expanded, toggleExpanded, testing, runTest, onToggle, onArchive, onEdit }: ProviderColumnsContext) {
  return [
    col.accessor('priority', {
      header: 'Priority',
      meta: { align: 'right', width: admin ? 92 : 60 },
      cell: (c) => {
        const p = c.row.original;
        const i = c.row.index;
        return (
          <span className="priority-cell">
            {admin && !p.archivedAt && (
              <span className="move-buttons">
                <button
                  type="button"
                  className="icon-button move-button"
                  data-move="up"
                  aria-label={`Move ${p.name} up`}
                  title="Move up (Alt+↑)"
                  disabled={i === 0 || reorderPending}
                  onClick={() => move(p.name, -1, 'up')}
                >
                  ↑
                </button>
                <button
                  type="button"
                  className="icon-button move-button"
                  data-move="down"
                  aria-label={`Move ${p.name} down`}
                  title="Move down (Alt+↓)"
                  disabled={i === count - 1 || reorderPending}
                  onClick={() => move(p.name, 1, 'down')}
                >
                  ↓
                </button>
              </span>
            )}
            <span data-testid={`priority-${p.name}`}>{p.archivedAt ? '—' : p.priority}</span>
          </span>
        );
      },
    }),
    col.accessor('name', {
      header: 'Provider',
      meta: { width: 150 },
      cell: (c) => {
        const p = c.row.original;
        return (
          <span className="provider-name" data-provider={p.name}>
            <HealthDot provider={p} />
            <span className="strong mono cell-ellipsis cell-narrow" title={`${p.name}: ${p.baseUrl}${p.model ? ` (${p.model})` : ''}`}>
              {p.name}
            </span>
            {p.archivedAt && (
              <span className="tag" title={`Archived ${formatDateTime(p.archivedAt)}: never tried by the gateway`} data-testid={`archived-${p.name}`}>
                archived
              </span>
            )}
            {!p.archivedAt && p.kind !== 'local' && !p.apiKeySet && (
              <span className="tag" title="No API key stored: calls will fail">
                no key
              </span>
            )}
          </span>
        );
      },
    }),
    col.accessor('kind', {
      header: 'Kind',
      meta: { width: 64 },
      cell: (c) => <span title={kindLabels[c.getValue()]}>{c.getValue()}</span>,
    }),
    col.accessor('costPerRequest', {
      header: 'Cost/req',
      meta: { align: 'right', width: 70 },
      cell: (c) => formatUsd(c.getValue()),
    }),
    col.accessor('rateLimitPerMinute', {
      header: 'Rate/min',
      meta: { align: 'right', width: 64 },
      cell: (c) => formatCount(c.getValue()),
    }),
    col.accessor('successRate24h', {
      header: 'Success 24h',
      meta: { align: 'right', width: 112 },
      cell: (c) => {
        const p = c.row.original;
        const rate = p.successRate24h;
        if (rate === null || p.calls24h === 0)
          return (
            <span className="muted" data-testid={`success-${p.name}`}>
              no calls
            </span>
          );
        return (
          <span title={`${formatCount(p.calls24h)} calls in the last 24 hours (skips not counted)`} data-testid={`success-${p.name}`}>
            <span className={rateClass(rate)}>{formatRate(rate)}</span>
            <span className="cell-sub"> of {formatCount(p.calls24h)}</span>
          </span>
        );
      },
    }),
    col.accessor('latencyP50Ms', {
      header: 'p50',
      meta: { align: 'right', width: 58 },
      cell: (c) => {
        const v = c.getValue();
        return v === null ? <span className="muted">—</span> : <span title="Median latency over 24 h">{duration(v)}</span>;
      },
    }),
    col.accessor('lastError', {
      header: 'Last error',
      meta: { grow: true },
      cell: (c) => {
        const p = c.row.original;
        const open = expanded.has(p.name);
        // Two sources, one cell: the last failed call, and the last failed health check (kept after a later pass).
        const health = p.lastHealthError && (
          <span
            className="health-error"
            data-testid={`health-error-${p.name}`}
            title={`Last failed health check ${formatDateTime(p.lastHealthErrorAt)}: ${p.lastHealthError}${p.lastHealthOk ? ` (passed since, ${formatDateTime(p.lastHealthCheck)})` : ''}`}
          >
            {p.lastHealthErrorAt && <time dateTime={p.lastHealthErrorAt}>{formatRelative(p.lastHealthErrorAt)}</time>} health check: {p.lastHealthError}
          </span>
        );
        if (!p.lastError) return health || <span className="muted">—</span>;
        return (
          <span className="cell-stack">
            <button
              type="button"
              className={open ? 'cell-error cell-error-open' : 'cell-error'}
              aria-expanded={open}
              title={`${formatDateTime(p.lastErrorAt)}: ${p.lastError}`}
              onClick={() => toggleExpanded(p.name)}
              data-testid={`last-error-${p.name}`}
            >
              {p.lastErrorAt && <time dateTime={p.lastErrorAt}>{formatRelative(p.lastErrorAt)}</time>} {p.lastError}
            </button>
            {health}
          </span>
        );
      },
    }),
    col.accessor('circuit', {
      header: 'Circuit',
      meta: { width: 76 },
      cell: (c) => <CircuitBadge circuit={c.getValue()} />,
    }),
    col.accessor('poolBalance', {
      header: 'Pool',
      meta: { align: 'right', width: 76 },
      cell: (c) => {
        const p = c.row.original;
        if (p.kind === 'local')
          return (
            <span className="muted" title="The local provider runs on this server and draws no pool">
              free (local)
            </span>
          );
        if (p.poolBalance === null)
          return (
            <span className="balance-low" title={`No pool named ${p.name}: requests skip this provider until one exists (Pools page)`}>
              no pool
            </span>
          );
        return (
          <span className={p.poolBalance === 0 ? 'balance-zero' : undefined} title="Credits left in its pool">
            {formatCount(p.poolBalance)}
          </span>
        );
      },
    }),
    col.accessor('isActive', {
      header: 'Active',
      meta: { width: 56 },
      cell: (c) => {
        const p = c.row.original;
        if (p.archivedAt) return <span className="badge badge-muted">archived</span>;
        return admin ? (
          <input
            type="checkbox"
            role="switch"
            className="switch"
            checked={p.isActive}
            aria-label={`Active: ${p.name}`}
            title={p.isActive ? 'Active: click to disable' : 'Disabled: click to enable'}
            onChange={() => onToggle(p)}
            data-testid={`active-${p.name}`}
          />
        ) : p.isActive ? (
          <span className="badge badge-ok">active</span>
        ) : (
          <span className="badge badge-muted">disabled</span>
        );
      },
    }),
    ...(admin
      ? [
          col.display({
            id: 'actions',
            header: () => <span className="sr-only">Actions</span>,
            meta: { align: 'right', width: 118 },
            cell: (c) => {
              const p = c.row.original;
              const busy = testing.has(p.name);
              if (p.archivedAt) {
                return (
                  <span className="row-actions">
                    <button type="button" className="button button-small" aria-label={`Restore ${p.name}`} onClick={() => onArchive({ provider: p, restore: true })}>
                      Restore
                    </button>
                  </span>
                );
              }
              return (
                <span className="row-actions">
                  <button type="button" className="button button-small" aria-label={`Test ${p.name} now`} disabled={busy} onClick={() => runTest({ name: p.name })}>
                    {busy ? 'Testing…' : 'Test now'}
                  </button>
                  <button type="button" className="button button-small" aria-label={`Edit ${p.name}`} onClick={() => onEdit({ open: true, provider: p })}>
                    Edit
                  </button>
                </span>
              );
            },
          }),
        ]
      : []),
  ];
}
