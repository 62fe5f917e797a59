import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../../../../server/trpc/root';
import type { AlertChannelName, AlertLevelName } from '../../../../shared/alerts';
import { formatCount } from '../../components/Amount';
import { formatDateTime, formatRelative } from '../../lib/format';

type AlertsOutputs = inferRouterOutputs<AppRouter>['admin']['alerts'];
/** An alert as the admin.alerts procedures return it (metadata arrives as JSON). */
export type AlertView = AlertsOutputs['active'][number];
export type AlertDelivery = AlertsOutputs['deliveries'][number];
export type AlertStatus = AlertView['status'];

/** Most severe first: the order of filters and of the level counts. */
export const levelsBySeverity: AlertLevelName[] = ['critical', 'error', 'warning', 'info'];

export function LevelBadge({ level }: { level: AlertLevelName }) {
  return <span className={`badge alerts-level alerts-level-${level}`}>{level}</span>;
}

const statusBadge: Record<AlertStatus, string> = { open: 'badge-danger', acknowledged: 'badge-warn', resolved: 'badge-ok' };

/** Open (red), acknowledged (amber: someone is on it), resolved (green); who and when in the tooltip. */
export function AlertStatusBadge({ alert }: { alert: AlertView }) {
  const by =
    alert.status === 'acknowledged'
      ? `Acknowledged by ${alert.acknowledgedBy ?? '?'}, ${formatDateTime(alert.acknowledgedAt)}`
      : alert.status === 'resolved'
        ? `Resolved by ${alert.resolvedBy ?? '?'}, ${formatDateTime(alert.resolvedAt)}`
        : 'Nobody has acknowledged it yet';
  return (
    <span className={`badge ${statusBadge[alert.status]}`} title={by} data-testid="alert-status">
      {alert.status}
    </span>
  );
}

const deliveryBadge: Record<AlertDelivery['status'], string> = { pending: 'badge-warn', sent: 'badge-ok', failed: 'badge-danger' };

export function DeliveryStatusBadge({ status }: { status: AlertDelivery['status'] }) {
  return <span className={`badge ${deliveryBadge[status]}`}>{status}</span>;
}

export const channelLabels: Record<AlertChannelName, string> = { slack: 'Slack', email: 'Email', sms: 'SMS', in_app: 'In-app' };

/** `×12`; a single occurrence is shown muted. */
export function Occurrences({ n }: { n: number }) {
  return (
    <span className={n > 1 ? 'alerts-occurrences' : 'muted'} title={`Seen ${formatCount(n)} time${n === 1 ? '' : 's'}`}>
      ×{formatCount(n)}
    </span>
  );
}

/** A relative time with the full one in the tooltip; `never` for nothing. */
export function When({ iso, empty = 'never' }: { iso: string | null | undefined; empty?: string }) {
  if (!iso) return <span className="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatRelative(iso)}
    </time>
  );
}

/** `15 min`, `1 h`, `90 s`, `off` for 0. */
export function formatCooldown(seconds: number): string {
  if (seconds === 0) return 'off';
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${formatCount(seconds)} s`;
}
