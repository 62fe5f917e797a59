import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { Link } from 'wouter';
import type { CreditSource } from '../../../shared/credits';
import type { LedgerFilter, LedgerRow } from '../../../shared/ledger';
import { Delta, formatCount, formatUsd } from '../components/Amount';
import { DateRangeFields } from '../components/DateRangeFields';
import { PageHeader } from '../components/EmptyState';
import { LedgerTypeSourceFields, sourceLabels, type TransactionType } from '../components/LedgerTypeSourceFields';
import { ExportLink } from '../components/ExportLink';
import { SearchInput, useDebouncedValue } from '../components/SearchInput';
import { DataTable } from '../components/DataTable';
import { Pager } from '../components/Pager';
import { dayBound } from '../lib/day-bound';
import { errorMessage } from '../lib/errors';
import { formatDateTime, formatRelative } from '../lib/format';
import { useTRPC } from '../trpc';

const PAGE_SIZE = 50;
const col = createColumnHelper<LedgerRow>();
const matchLabels: Record<NonNullable<LedgerRow['matchedBy']>, string> = {
  transactionId: 'transaction #',
  idempotencyKey: 'idempotency key',
  userId: 'user id',
  email: 'email',
};
const PROVIDER_PATTERN = /^[a-z0-9_.-]{1,64}$/;

/** Any transaction of any user: found by number, idempotency key, user id or email, filtered, exported. */
export function LedgerPage() {
  const trpc = useTRPC();
  const [queryText, setQueryText] = useState('');
  const [type, setType] = useState<TransactionType | ''>('');
  const [source, setSource] = useState<CreditSource | ''>('');
  const [providerText, setProviderText] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const query = useDebouncedValue(queryText.trim(), 300);
  const provider = useDebouncedValue(providerText.trim().toLowerCase(), 300);
  const fromIso = from ? dayBound(from, false) : undefined;
  const toIso = to ? dayBound(to, true) : undefined;
  const providerError = provider && !PROVIDER_PATTERN.test(provider) ? 'A provider name has lower-case letters, digits and _ . - only' : null;
  const rangeError = fromIso && toIso && fromIso > toIso ? '“From” is after “To”' : null;
  const filterError = providerError ?? rangeError;

  const filter: LedgerFilter = {
    query: query || undefined,
    type: type || undefined,
    source: source || undefined,
    provider: provider || undefined,
    from: fromIso,
    to: toIso,
  };
  const questionKey = JSON.stringify(filter);
  // Each page reached by paging forward remembers the last row of the page before it: read from
  // there, a deep page costs the server what the first does (a jump to a page not reached so uses the offset).
  const [paging, setPaging] = useState<{ key: string; page: number; cursors: Record<number, string> }>({ key: questionKey, page: 0, cursors: {} });
  const current = paging.key === questionKey ? paging : { key: questionKey, page: 0, cursors: {} };
  const page = current.page;
  const before = current.cursors[page];

  const result = useQuery(trpc.admin.ledger.search.queryOptions({ page, pageSize: PAGE_SIZE, ...filter, ...(before ? { before } : {}) }, { placeholderData: keepPreviousData, enabled: !filterError }));
  const goToPage = (p: number) => {
    const last = result.data?.rows.at(-1)?.transactionId;
    const cursors = p === page + 1 && last && !result.isPlaceholderData ? { ...current.cursors, [p]: last } : current.cursors;
    setPaging({ key: questionKey, page: p, cursors });
  };

  const columns = useMemo(
    () => [
      col.accessor('transactionId', { header: '#', meta: { mono: true, width: 70 } }),
      col.accessor('createdAt', {
        header: 'Time',
        meta: { width: 130 },
        cell: (c) => (
          <time dateTime={c.getValue()} title={formatRelative(c.getValue())}>
            {formatDateTime(c.getValue())}
          </time>
        ),
      }),
      col.display({
        id: 'user',
        header: 'User',
        meta: { width: 180 },
        cell: (c) => {
          const r = c.row.original;
          return (
            <span className="cell-stack">
              <Link href={`/users?user=${encodeURIComponent(r.userId)}`} className="mono cell-ellipsis ledger-user" title={r.userId}>
                {r.userId}
              </Link>
              {r.email && (
                <span className="cell-sub cell-ellipsis ledger-user" title={r.email}>
                  {r.email}
                </span>
              )}
            </span>
          );
        },
      }),
      col.accessor('type', { header: 'Type', meta: { width: 100 }, cell: (c) => <span className="strong">{c.getValue().replace('_', ' ')}</span> }),
      col.accessor('source', { header: 'Source', meta: { width: 110 }, cell: (c) => (c.getValue() ? sourceLabels[c.getValue()!] : <span className="muted">—</span>) }),
      col.accessor('creditsDelta', { header: 'Change', meta: { align: 'right', width: 70 }, cell: (c) => <Delta value={c.getValue()} /> }),
      col.accessor('balanceAfter', { header: 'Balance', meta: { align: 'right', width: 70 }, cell: (c) => formatCount(c.getValue()) }),
      col.accessor('costUsd', { header: 'Cost', meta: { align: 'right', width: 80 }, cell: (c) => (c.getValue() ? formatUsd(c.getValue()) : <span className="muted">—</span>) }),
      col.accessor('provider', { header: 'Provider', meta: { mono: true, width: 90 }, cell: (c) => c.getValue() ?? <span className="muted">—</span> }),
      col.display({
        id: 'detail',
        header: 'Key · reason',
        meta: { grow: true },
        cell: (c) => {
          const r = c.row.original;
          const detail = [r.idempotencyKey, r.reason, r.actor ? `by ${r.actor}` : null].filter(Boolean).join(' · ');
          return (
            <span title={detail || undefined}>
              {r.matchedBy && <span className="chip ledger-match">{matchLabels[r.matchedBy]}</span>}
              {detail ? <span className="mono">{detail}</span> : <span className="muted">—</span>}
            </span>
          );
        },
      }),
    ],
    [],
  );

  const filtered = !!(queryText.trim() || type || source || providerText.trim() || from || to);
  const total = result.data?.total;
  const plus = result.data?.totalExact === false ? '+' : '';

  return (
    <div className="page page-wide">
      <PageHeader title="Ledger" description="Every credit transaction of every user. Search by transaction number, idempotency key, user id or email; each matches exactly." />
      <section className="section" aria-label="Ledger">
        <div className="toolbar ledger-toolbar">
          <SearchInput value={queryText} onChange={setQueryText} label="Search the ledger" placeholder="Transaction #, idempotency key, user id or email" width={320} />
          <LedgerTypeSourceFields type={type} source={source} onType={setType} onSource={setSource} />
          <label className="toolbar-field">
            <span>Provider</span>
            <input
              value={providerText}
              onChange={(e) => setProviderText(e.target.value)}
              placeholder="any"
              aria-label="Provider"
              aria-invalid={!!providerError}
              spellCheck={false}
              autoComplete="off"
              className="ledger-provider-input"
            />
          </label>
          <DateRangeFields from={from} to={to} onFrom={setFrom} onTo={setTo} invalid={!!rangeError} />
          {filtered && (
            <button
              type="button"
              className="button button-small"
              onClick={() => {
                setQueryText('');
                setType('');
                setSource('');
                setProviderText('');
                setFrom('');
                setTo('');
              }}
            >
              Clear
            </button>
          )}
          <span className="toolbar-spacer" />
          <span className="toolbar-total" data-testid="ledger-total">
            {total !== undefined ? `${formatCount(total)}${plus} transaction${total === 1 && !plus ? '' : 's'}${filtered ? ' match' : ''}` : ''}
          </span>
          <ExportLink name="ledger" filter={filter} disabled={!!filterError} />
        </div>
        {filterError && (
          <div className="alert alert-error" role="alert">
            {filterError}
          </div>
        )}
        <div className="table-dense">
          <DataTable
            manual
            label="Ledger"
            testId="ledger-table"
            columns={columns}
            data={result.data?.rows}
            getRowId={(r) => r.transactionId}
            loading={result.isPending && !filterError}
            refreshing={result.isPlaceholderData}
            error={result.isError ? errorMessage(result.error) : null}
            emptyMessage={filtered ? 'No transactions match.' : 'No transactions yet.'}
          />
        </div>
        <Pager page={page} pageSize={PAGE_SIZE} total={total} totalExact={!plus} onPage={goToPage} noun="transactions" />
      </section>
    </div>
  );
}
