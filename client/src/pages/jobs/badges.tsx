import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../../../../server/trpc/root';

type JobsOutputs = inferRouterOutputs<AppRouter>['admin']['jobs'];
/** What the server sends (`result` unknown may be absent), not the zod input shape. */
export type JobOverview = JobsOutputs['overview'];
export type JobRun = JobsOutputs['runs']['rows'][number];
export type RunStatus = JobRun['status'];

const runBadge: Record<RunStatus, string> = { running: 'badge-info', succeeded: 'badge-ok', failed: 'badge-danger' };

export function RunStatusBadge({ status }: { status: RunStatus }) {
  return (
    <span className={`badge badge-label ${runBadge[status]}`} data-status={status}>
      {status === 'running' && <span className="spinner" aria-hidden />}
      {status}
    </span>
  );
}

const triggerTitles: Record<string, string> = {
  schedule: 'Started by its schedule',
  manual: 'Started by an admin (Run now)',
  retry: 'A retry of a failed run',
  demand: 'Enqueued by the app when needed (e.g. a pool at its threshold)',
};

export function TriggerLabel({ trigger }: { trigger: string }) {
  return <span title={triggerTitles[trigger] ?? trigger}>{trigger}</span>;
}
