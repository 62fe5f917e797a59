import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { DataTable } from '../../components/DataTable';
import { Pager } from '../../components/Pager';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, formatRelative } from '../../lib/format';
import { useTRPC } from '../../trpc';
import { RunStatusBadge, TriggerLabel, type JobRun, type RunStatus } from './badges';
import { formatDuration } from './format';
import { describeResult } from './result-summary';

const PAGE_SIZE = 25;
const statuses: RunStatus[] = ['running', 'succeeded', 'failed'];
const col = createColumnHelper<JobRun>();

/** Every recorded run, newest first, paged on the server and filtered by job and status. */
export function RunHistorySection({ jobNames, refetchInterval }: { jobNames: string[]; refetchInterval: number }) {
  const trpc = useTRPC();
  const [jobName, setJobName] = useState<string>('all');
  const [status, setStatus] = useState<RunStatus | 'all'>('all');
  // A new filter starts at its first page.
  const filterKey = `${jobName}|${status}`;
  const [paging, setPaging] = useState({ key: filterKey, page: 0 });
  const page = paging.key === filterKey ? paging.page : 0;

  const runs = useQuery(
    trpc.admin.jobs.runs.queryOptions(
      { page, pageSize: PAGE_SIZE, jobName: jobName === 'all' ? undefined : jobName, status: status === 'all' ? undefined : status },
      { placeholderData: keepPreviousData, refetchInterval },
    ),
  );

  const columns = useMemo(
    () => [
      col.accessor('id', { header: 'Run', meta: { mono: true, align: 'right', width: 56 }, cell: (c) => <span className="muted">#{c.getValue()}</span> }),
      col.accessor('jobName', { header: 'Job', meta: { mono: true, width: 170 }, cell: (c) => <span className="strong">{c.getValue()}</span> }),
      col.accessor('status', { header: 'Status', meta: { width: 92 }, cell: (c) => <RunStatusBadge status={c.getValue()} /> }),
      col.accessor('trigger', { header: 'Trigger', meta: { width: 70 }, cell: (c) => <TriggerLabel trigger={c.getValue()} /> }),
      col.accessor('attempt', { header: 'Attempt', meta: { align: 'right', width: 60 } }),
      col.accessor('startedAt', {
        header: 'Started',
        meta: { width: 128 },
        cell: (c) => (
          <time dateTime={c.getValue()} title={`${formatRelative(c.getValue())} · ${c.row.original.mode}`}>
            {formatDateTime(c.getValue())}
          </time>
        ),
      }),
      col.accessor('durationMs', {
        header: 'Duration',
        meta: { align: 'right', width: 76 },
        cell: (c) => (c.row.original.status === 'running' ? <span className="muted">running</span> : formatDuration(c.getValue())),
      }),
      col.accessor((r) => r.error ?? describeResult(r.jobName, r.result), {
        id: 'outcome',
        header: 'Result / error',
        meta: { grow: true },
        cell: (c) => {
          const r = c.row.original;
          const text = c.getValue();
          if (!text) return <span className="muted">—</span>;
          return (
            <span className={r.error ? 'table-error' : 'muted'} title={text}>
              {text}
            </span>
          );
        },
      }),
    ],
    [],
  );

  const filtered = jobName !== 'all' || status !== 'all';

  return (
    <section className="section" aria-labelledby="runs-title">
      <div className="section-header">
        <div>
          <h2 id="runs-title">Run history</h2>
          <p className="section-description">Every attempt of every job, newest first; a retried job shows one row per attempt.</p>
        </div>
        <div className="toolbar toolbar-end">
          <label className="toolbar-field">
            <span>Job</span>
            <select value={jobName} onChange={(e) => setJobName(e.target.value)} aria-label="Job filter">
              <option value="all">All jobs</option>
              {jobNames.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <label className="toolbar-field">
            <span>Status</span>
            <select value={status} onChange={(e) => setStatus(e.target.value as RunStatus | 'all')} aria-label="Status filter">
              <option value="all">All statuses</option>
              {statuses.map((s) => (
                <option key={s} value={s}>
                  {s[0]!.toUpperCase() + s.slice(1)}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <div className="table-dense">
        <DataTable
          manual
          label="Run history"
          testId="job-runs-table"
          columns={columns}
          data={runs.data?.rows}
          getRowId={(r) => r.id}
          loading={runs.isPending}
          refreshing={runs.isPlaceholderData}
          error={runs.isError ? errorMessage(runs.error) : null}
          emptyMessage={filtered ? 'No runs match these filters.' : 'No runs recorded yet.'}
        />
      </div>
      <Pager page={page} pageSize={PAGE_SIZE} total={runs.data?.total} onPage={(p) => setPaging({ key: filterKey, page: p })} noun="runs" />
    </section>
  );
}
