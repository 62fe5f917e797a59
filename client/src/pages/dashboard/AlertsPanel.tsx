import { Link } from 'wouter';
import type { z } from 'zod';
import type { dashboardSchema } from '../../../../shared/analytics';
import { formatCount } from '../../components/Amount';
import { formatDateTime, formatRelative } from '../../lib/format';

type Dashboard = z.infer<typeof dashboardSchema>;

const levelBadge: Record<string, string> = { critical: 'badge-danger', error: 'badge-danger', warning: 'badge-warn', info: 'badge-info' };

/** The open alerts, worst first (the server sends at most 8), each a way into the Alerts page. */
export function AlertsPanel({ alerts, count }: { alerts: Dashboard['activeAlerts']; count: number }) {
  return (
    <section className="section dash-panel" aria-labelledby="dash-alerts-title" data-testid="dashboard-alerts">
      <div className="dash-panel-header">
        <h2 id="dash-alerts-title">
          Active alerts{' '}
          <span className={count > 0 ? 'dash-count dash-count-hot' : 'dash-count'} data-testid="dashboard-alert-count">
            {formatCount(count)}
          </span>
        </h2>
        <Link href="/alerts" className="dash-panel-link">
          Open Alerts →
        </Link>
      </div>
      {alerts.length === 0 ? (
        <p className="dash-all-clear">
          <span className="dash-dot dash-dot-ok" aria-hidden /> No active alerts.
        </p>
      ) : (
        <ul className="dash-alerts">
          {alerts.map((a) => (
            <li key={a.id}>
              <Link href={`/alerts?alert=${encodeURIComponent(a.id)}`} className="dash-alert" title={`${a.subject}: ${a.message}`}>
                <span className={`badge ${levelBadge[a.level] ?? 'badge-muted'}`}>{a.level}</span>
                <span className="dash-alert-message">{a.message}</span>
                {a.occurrences > 1 && (
                  <span className="dash-alert-times" title={`Seen ${formatCount(a.occurrences)} times`}>
                    ×{formatCount(a.occurrences)}
                  </span>
                )}
                <time className="dash-alert-time" dateTime={a.lastSeenAt} title={`Last seen ${formatDateTime(a.lastSeenAt)}`}>
                  {formatRelative(a.lastSeenAt)}
                </time>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {count > alerts.length && (
        <p className="dash-more">
          <Link href="/alerts">and {formatCount(count - alerts.length)} more…</Link>
        </p>
      )}
    </section>
  );
}
