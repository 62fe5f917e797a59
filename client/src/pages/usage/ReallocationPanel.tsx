import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { formatCount } from '../../components/Amount';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, formatRelative } from '../../lib/format';
import { useTRPC } from '../../trpc';
import { Skeleton } from '../../components/Skeleton';

const statusBadge = { running: 'badge-info', succeeded: 'badge-ok', failed: 'badge-danger' } as const;

function formatMs(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** What the last smart-reallocation run did: idle allowances moved to a pool, upgrade suggestions sent. */
export function ReallocationPanel() {
  const trpc = useTRPC();
  const last = useQuery(trpc.admin.usage.lastReallocation.queryOptions(undefined, { refetchInterval: 60_000 }));
  const run = last.data?.run;
  const outcome = last.data?.outcome;

  return (
    <section className="chart-card usage-realloc" aria-labelledby="realloc-title" data-testid="last-reallocation">
      <div className="chart-card-header">
        <h3 id="realloc-title">Last smart reallocation</h3>
        <Link href="/jobs" className="chart-card-note">
          Jobs →
        </Link>
      </div>
      {last.isError && <p className="table-error">{errorMessage(last.error)}</p>}
      {last.isPending && <Skeleton lines={3} />}
      {last.data && !run && <p className="muted usage-realloc-empty">Smart reallocation has not run yet. It runs on its schedule, or from the Jobs page.</p>}
      {run && (
        <>
          <div className="usage-realloc-run">
            <span className={`badge ${statusBadge[run.status]}`}>{run.status}</span>
            <time dateTime={run.startedAt} title={formatDateTime(run.startedAt)}>
              {formatRelative(run.startedAt)}
            </time>
            <span className="muted">
              {formatDateTime(run.startedAt)} · {run.trigger} · {formatMs(run.durationMs)}
            </span>
          </div>
          {run.status === 'failed' && <p className="table-error">{run.error ?? 'The run failed.'}</p>}
          {outcome && (
            <dl className="usage-realloc-figures">
              <div>
                <dt>Users reallocated</dt>
                <dd data-testid="realloc-users">{formatCount(outcome.usersReallocated)}</dd>
              </div>
              <div>
                <dt>Credits moved</dt>
                <dd data-testid="realloc-credits">{formatCount(outcome.creditsReallocated)}</dd>
                <dd className="stat-sub">
                  {outcome.pool ? (
                    <>
                      to pool <span className="mono">{outcome.pool}</span>
                    </>
                  ) : (
                    'no pool to receive them'
                  )}
                </dd>
              </div>
              <div>
                <dt>Upgrade suggestions</dt>
                <dd data-testid="realloc-suggestions">{formatCount(outcome.upgradeSuggestions)}</dd>
              </div>
            </dl>
          )}
          {run.status === 'succeeded' && !outcome && <p className="muted">The run recorded no outcome.</p>}
        </>
      )}
      <p className="usage-realloc-help muted">Unused allowances of users idle since their reset move to a platform pool; heavy free and plus users get an upgrade suggestion.</p>
    </section>
  );
}
