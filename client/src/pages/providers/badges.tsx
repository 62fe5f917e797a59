import type { ProviderView } from '../../../../shared/providers';
import { formatDateTime, formatRelative } from '../../lib/format';

type Circuit = ProviderView['circuit'];

const circuitBadge: Record<Circuit, { className: string; label: string; title: string }> = {
  closed: { className: 'badge-ok', label: 'closed', title: 'Closed: requests flow to this provider' },
  open: { className: 'badge-danger', label: 'open', title: 'Open: too many recent failures, the provider is skipped for now' },
  half_open: { className: 'badge-warn', label: 'half-open', title: 'Half-open: the next request is a trial; success closes the circuit' },
};

export function CircuitBadge({ circuit }: { circuit: Circuit }) {
  const b = circuitBadge[circuit];
  return (
    <span className={`badge badge-label ${b.className}`} title={b.title}>
      {b.label}
    </span>
  );
}

/** Green when the last health check passed, red when it failed, grey before the first one. */
export function HealthDot({ provider: p }: { provider: ProviderView }) {
  const state = p.lastHealthOk === null ? 'unknown' : p.lastHealthOk ? 'ok' : 'failing';
  const when = p.lastHealthCheck ? `checked ${formatRelative(p.lastHealthCheck)} (${formatDateTime(p.lastHealthCheck)})` : 'never checked';
  const label = state === 'ok' ? 'Healthy' : state === 'failing' ? 'Failing' : 'Health unknown';
  const title = `${label}: ${when}${p.lastHealthDetail ? `\n${p.lastHealthDetail}` : ''}`;
  return <span className={`health-dot health-${state}`} role="img" aria-label={label} title={title} data-testid={`health-${p.name}`} data-state={state} />;
}
