import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { isAdmin, useMe } from '../auth';
import { formatCount } from '../components/Amount';
import { PageHeader } from '../components/EmptyState';
import { DataTable } from '../components/DataTable';
import { useToast } from '../components/Toasts';
import { errorMessage } from '../lib/errors';
import { useTRPC } from '../trpc';
import type { JobOverview, JobRun } from './jobs/badges';
import { formatDuration } from './jobs/format';
import { describeResult } from './jobs/result-summary';
import { failedJobColumns, jobColumns } from './jobs/jobs-columns';
import { RunHistorySection } from './jobs/RunHistorySection';

type Overview = JobOverview;

/** Runs started from this page, followed until they finish. */
type Awaited = { jobId: string; since: number };

const FAST_MS = 2_000;
const SLOW_MS = 15_000;
/** How long a started run (or a retry) is followed before the page stops polling fast for it. */
const FOLLOW_MS = 120_000;

export function JobsPage() {
  const trpc = useTRPC();
  const me = useMe();
  const admin = isAdmin(me);
  const queryClient = useQueryClient();
  const toast = useToast();
  const [awaiting, setAwaiting] = useState<Readonly<Record<string, Awaited>>>({});
  const [fastUntil, setFastUntil] = useState(0);
  const following = Object.keys(awaiting).length > 0;

  const overview = useQuery(
    trpc.admin.jobs.overview.queryOptions(undefined, {
      // Every 2 s while a run is in flight (or one started here has not shown up yet), else every 15 s.
      refetchInterval: (q) => (following || Date.now() < fastUntil || q.state.data?.jobs.some((j) => j.lastRun?.status === 'running') ? FAST_MS : SLOW_MS),
    }),
  );
  const data = overview.data;
  const live = following || Date.now() < fastUntil || !!data?.jobs.some((j) => j.lastRun?.status === 'running');

  const refresh = useCallback(() => queryClient.invalidateQueries(trpc.admin.jobs.pathFilter()), [queryClient, trpc]);

  const runNow = useMutation(
    trpc.admin.jobs.runNow.mutationOptions({
      onSuccess: ({ jobId }, { name }) => {
        toast.show(`${name} started (job ${jobId}).`, 'info');
        setAwaiting((a) => ({ ...a, [name]: { jobId, since: Date.now() } }));
        void refresh();
      },
      onError: (err, { name }) => toast.show(`Could not start ${name}: ${errorMessage(err)}`, 'error'),
    }),
  );
  const retry = useMutation(
    trpc.admin.jobs.retry.mutationOptions({
      onSuccess: (_r, { id }) => {
        const job = data?.failed.find((f) => f.id === id);
        toast.show(`Retrying ${job?.name ?? 'the job'} (${id}).`, 'info');
        setFastUntil(Date.now() + 30_000);
        void refresh();
      },
      onError: (err) => toast.show(`Could not retry: ${errorMessage(err)}`, 'error'),
    }),
  );

  const onFollowed = useCallback(
    (name: string, run: JobRun | null) => {
      setAwaiting(({ [name]: _done, ...rest }) => rest);
      if (run?.status === 'succeeded') {
        const result = describeResult(name, run.result);
        toast.show(`${name} succeeded in ${formatDuration(run.durationMs)}${result ? `: ${result}` : '.'}`);
      } else if (run?.status === 'failed') {
        toast.show(`${name} failed (attempt ${run.attempt}): ${run.error ?? 'no error message'}`, 'error');
      }
      void refresh();
    },
    [toast, refresh],
  );

  const startRun = runNow.mutate;
  const pendingName = runNow.isPending ? runNow.variables?.name : undefined;
  const columns = useMemo(() => jobColumns({ admin, pendingName, awaiting, startRun }), [admin, pendingName, awaiting, startRun]);

  const retryRun = retry.mutate;
  const retryingId = retry.isPending ? retry.variables?.id : undefined;
  const failedColumns = useMemo(() => failedJobColumns({ admin, retryingId, retryRun }), [admin, retryingId, retryRun]);

  const jobNames = useMemo(() => data?.jobs.map((j) => j.name) ?? [], [data]);

  return (
    <div className="page page-wide">
      <PageHeader
        title="Jobs"
        description="Scheduled work: the monthly credit reset, provider health checks, expiring holds, pool refills and balance checks. Every run is recorded."
        actions={data && <RunnerFacts overview={data} />}
      />

      <section className="section" aria-labelledby="schedules-title">
        <div className="section-header">
          <div>
            <h2 id="schedules-title">Schedules</h2>
            <p className="section-description">
              Cron expressions run in the <strong>{data?.timezone ?? '…'}</strong> time zone; times below are yours.
            </p>
          </div>
          {live && (
            <span className="live-note" aria-live="polite">
              <span className="spinner" aria-hidden /> refreshing every 2 s
            </span>
          )}
        </div>
        <div className="table-dense">
          <DataTable
            manual
            label="Jobs"
            testId="jobs-table"
            columns={columns}
            data={data?.jobs}
            getRowId={(j) => j.name}
            loading={overview.isPending}
            error={overview.isError ? errorMessage(overview.error) : null}
            emptyMessage="No jobs are defined."
          />
        </div>
      </section>

      <section className="section" aria-labelledby="failed-title">
        <div className="section-header">
          <div>
            <h2 id="failed-title">Failed jobs</h2>
            <p className="section-description">Jobs whose last attempt failed{data?.mode === 'bullmq' ? ', as BullMQ keeps them' : ''}. A retry runs the job again with the same input.</p>
          </div>
          {data && data.failed.length > 0 && (
            <div className="section-stats">
              <span>
                <span className="muted">Failed</span> <strong className="delta-minus">{formatCount(data.failed.length)}</strong>
              </span>
            </div>
          )}
        </div>
        <div className="table-dense">
          <DataTable
            manual
            label="Failed jobs"
            testId="failed-jobs-table"
            columns={failedColumns}
            data={data?.failed}
            getRowId={(f) => f.id}
            loading={overview.isPending}
            error={overview.isError ? errorMessage(overview.error) : null}
            emptyMessage="No failed jobs."
          />
        </div>
      </section>

      <RunHistorySection jobNames={jobNames} refetchInterval={live ? FAST_MS : SLOW_MS} />

      {Object.entries(awaiting).map(([name, a]) => (
        <RunFollower key={`${name}:${a.jobId}`} name={name} awaited={a} onDone={onFollowed} />
      ))}
    </div>
  );
}

function RunnerFacts({ overview }: { overview: Overview }) {
  const bullmq = overview.mode === 'bullmq';
  return (
    <dl className="header-facts" data-testid="jobs-mode">
      <div>
        <dt>Runner</dt>
        <dd>
          <span
            className={`badge badge-label ${bullmq ? 'badge-ok' : 'badge-warn'}`}
            title={bullmq ? 'Jobs are queued in Redis; any number of workers may run them' : 'Jobs run on timers inside this server process'}
          >
            {bullmq ? 'BullMQ (Redis)' : 'In-process (no Redis: single instance)'}
          </span>
        </dd>
      </div>
      <div>
        <dt>Time zone</dt>
        <dd data-testid="jobs-timezone">{overview.timezone}</dd>
      </div>
    </dl>
  );
}

/**
 * Follows one run started with "Run now" (by its job id) until it is recorded as finished, then
 * reports it; gives up quietly after FOLLOW_MS (a queue with no worker never starts it).
 */
function RunFollower({ name, awaited, onDone }: { name: string; awaited: Awaited; onDone: (name: string, run: JobRun | null) => void }) {
  const trpc = useTRPC();
  const runs = useQuery(trpc.admin.jobs.runs.queryOptions({ jobName: name, page: 0, pageSize: 20 }, { refetchInterval: 1_500 }));
  useEffect(() => {
    // Rows are newest first: the first one of this job id is its latest attempt.
    const latest = runs.data?.rows.find((r) => r.jobId === awaited.jobId);
    if (latest && latest.status !== 'running') onDone(name, latest);
    else if (Date.now() - awaited.since > FOLLOW_MS) onDone(name, null);
  }, [runs.data, runs.dataUpdatedAt, awaited, name, onDone]);
  return null;
}
