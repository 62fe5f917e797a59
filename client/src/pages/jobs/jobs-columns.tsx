import { createColumnHelper } from '@tanstack/react-table';
import { formatDateTime, formatRelative } from '../../lib/format';
import { RunStatusBadge, TriggerLabel, type JobOverview } from './badges';
import { describeCron, formatDuration, formatUntil } from './format';

type Job = JobOverview['jobs'][number];
type FailedJob = JobOverview['failed'][number];

const jobCol = createColumnHelper<Job>();
const failedCol = createColumnHelper<FailedJob>();

/** The scheduled jobs: what each does, when it runs next, how its last run went; admins can run one now. */
export function jobColumns({
  admin,
  pendingName,
  awaiting,
  startRun,
}: {
  admin: boolean;
  /** The job a run-now request is on its way for. */
  pendingName: string | undefined;
  /** Jobs with a run started from this page and not finished yet. */
  awaiting: Record<string, unknown>;
  startRun: (input: { name: string }) => void;
}) {
  return [
    jobCol.accessor('name', {
      header: 'Job',
      meta: { grow: true },
      cell: (c) => (
        <span className="job-cell" data-job={c.getValue()}>
          <span className="strong mono">{c.getValue()}</span>
          <span className="job-description" title={c.row.original.description}>
            {c.row.original.description}
          </span>
        </span>
      ),
    }),
    jobCol.accessor('schedule', {
      header: 'Schedule',
      meta: { width: 150 },
      cell: (c) => {
        const cron = c.getValue();
        if (!cron) return <span className="muted">on demand</span>;
        const plain = describeCron(cron);
        return (
          <span className="cell-stack" title={plain ? `${cron}: ${plain}` : cron}>
            <code className="cron" data-testid={`schedule-${c.row.original.name}`}>
              {cron}
            </code>
            {plain && <span className="cell-sub">{plain}</span>}
          </span>
        );
      },
    }),
    jobCol.accessor('nextRunAt', {
      header: 'Next run',
      meta: { width: 88 },
      cell: (c) => {
        const v = c.getValue();
        return v ? (
          <time dateTime={v} title={`${formatDateTime(v)} (your time)`}>
            {formatUntil(v)}
          </time>
        ) : (
          <span className="muted">—</span>
        );
      },
    }),
    jobCol.accessor((j) => j.lastRun?.startedAt ?? null, {
      id: 'lastRun',
      header: 'Last run',
      meta: { width: 178 },
      cell: (c) => {
        const run = c.row.original.lastRun;
        if (!run) return <span className="muted">never</span>;
        return (
          <span className="last-run" data-testid={`last-run-${c.row.original.name}`}>
            <RunStatusBadge status={run.status} />
            <span className="cell-stack">
              <time dateTime={run.startedAt} title={formatDateTime(run.startedAt)}>
                {formatRelative(run.startedAt)}
              </time>
              <span className="cell-sub">
                {run.status === 'running' ? 'running' : formatDuration(run.durationMs)} · <TriggerLabel trigger={run.trigger} />
                {run.attempt > 1 && <> · attempt {run.attempt}</>}
              </span>
            </span>
          </span>
        );
      },
    }),
    jobCol.accessor((j) => (j.lastRun?.status === 'failed' ? j.lastRun.error : null), {
      id: 'lastError',
      header: 'Last error',
      meta: { width: 170 },
      cell: (c) => {
        const err = c.getValue();
        return err ? (
          <span className="table-error cell-ellipsis cell-error-fixed" title={err}>
            {err}
          </span>
        ) : (
          <span className="muted">—</span>
        );
      },
    }),
    ...(admin
      ? [
          jobCol.display({
            id: 'actions',
            header: () => <span className="sr-only">Actions</span>,
            meta: { align: 'right', width: 84 },
            cell: (c) => {
              const name = c.row.original.name;
              const busy = pendingName === name || !!awaiting[name];
              return (
                <button type="button" className="button button-small" aria-label={`Run ${name} now`} disabled={busy} onClick={() => startRun({ name })}>
                  {busy ? 'Running…' : 'Run now'}
                </button>
              );
            },
          }),
        ]
      : []),
  ];
}

/** Jobs whose last attempt failed, with the error; admins can retry one. */
export function failedJobColumns({ admin, retryingId, retryRun }: { admin: boolean; retryingId: string | undefined; retryRun: (input: { id: string }) => void }) {
  return [
    failedCol.accessor('name', { header: 'Job', meta: { mono: true, width: 170 }, cell: (c) => <span className="strong">{c.getValue()}</span> }),
    failedCol.accessor('id', { header: 'ID', meta: { mono: true, width: 90 }, cell: (c) => <span className="muted cell-ellipsis cell-narrow">{c.getValue()}</span> }),
    failedCol.accessor('failedAt', {
      header: 'Failed',
      meta: { width: 96 },
      cell: (c) => {
        const v = c.getValue();
        return v ? (
          <time dateTime={v} title={formatDateTime(v)}>
            {formatRelative(v)}
          </time>
        ) : (
          <span className="muted">—</span>
        );
      },
    }),
    failedCol.accessor('attempts', { header: 'Attempts', meta: { align: 'right', width: 66 } }),
    failedCol.accessor('error', {
      header: 'Error',
      meta: { grow: true },
      cell: (c) =>
        c.getValue() ? (
          <span className="table-error" title={c.getValue() ?? undefined}>
            {c.getValue()}
          </span>
        ) : (
          <span className="muted">—</span>
        ),
    }),
    ...(admin
      ? [
          failedCol.display({
            id: 'actions',
            header: () => <span className="sr-only">Actions</span>,
            meta: { align: 'right', width: 70 },
            cell: (c) => {
              const f = c.row.original;
              return (
                <button type="button" className="button button-small" aria-label={`Retry ${f.name} ${f.id}`} disabled={retryingId === f.id} onClick={() => retryRun({ id: f.id })}>
                  {retryingId === f.id ? 'Retrying…' : 'Retry'}
                </button>
              );
            },
          }),
        ]
      : []),
  ];
}
