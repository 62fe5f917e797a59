import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper, type SortingState } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useSearchParams } from 'wouter';
import type { z } from 'zod';
import { userSortKeys, type userRowSchema } from '../../../shared/credits';
import { tiers, type Tier } from '../../../shared/enums';
import type { UserFilter } from '../../../shared/users';
import { isAdmin, useMe } from '../auth';
import { formatCount } from '../components/Amount';
import { PageHeader } from '../components/EmptyState';
import { ExportLink } from '../components/ExportLink';
import { SearchInput, useDebouncedValue } from '../components/SearchInput';
import { DataTable } from '../components/DataTable';
import { Pager } from '../components/Pager';
import { errorMessage } from '../lib/errors';
import { formatDateTime, formatRelative } from '../lib/format';
import { useTRPC } from '../trpc';
import { BulkGrantDialog } from './users/BulkGrantDialog';
import { CreateUserDialog } from './users/CreateUserDialog';
import { TierBadge, tierLabel } from './users/TierBadge';
import { TierImportDialog } from './users/TierImportDialog';
import { UserPanel } from './users/UserPanel';

type UserRow = z.infer<typeof userRowSchema>;
type SortKey = (typeof userSortKeys)[number];

const PAGE_SIZE = 50;
const col = createColumnHelper<UserRow>();
const isSortKey = (id: string | undefined): id is SortKey => !!id && (userSortKeys as readonly string[]).includes(id);

type OpenDialog = 'create' | 'bulk-grant' | 'import' | null;

/** The filters in words, for the bulk grant to say whom it reaches. */
function describeFilter(f: UserFilter) {
  const parts = [f.tier ? `${tierLabel(f.tier)} users` : 'all users'];
  if (f.search) parts.push(`matching “${f.search}”`);
  if (f.outOfCredits) parts.push('out of credits');
  return parts.join(', ');
}

export function UsersPage() {
  const trpc = useTRPC();
  const admin = isAdmin(useMe());
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const refresh = () => queryClient.invalidateQueries(trpc.admin.users.pathFilter());
  const [params, setParams] = useSearchParams();
  const selectedUserId = params.get('user');

  const [search, setSearch] = useState('');
  const settledSearch = useDebouncedValue(search.trim(), 250);
  const [tier, setTier] = useState<Tier | 'all'>('all');
  const [outOfCredits, setOutOfCredits] = useState(false);
  const [sorting, setSorting] = useState<SortingState>([{ id: 'userId', desc: false }]);

  // The page belongs to one question (search, filters, order): a new question starts at its first page.
  const questionKey = JSON.stringify([settledSearch, tier, outOfCredits, sorting]);
  const [paging, setPaging] = useState({ key: questionKey, page: 0 });
  const page = paging.key === questionKey ? paging.page : 0;
  const setPage = (p: number) => setPaging({ key: questionKey, page: p });

  const sort = sorting[0];
  const list = useQuery(
    trpc.admin.users.list.queryOptions(
      {
        page,
        pageSize: PAGE_SIZE,
        search: settledSearch || undefined,
        tier: tier === 'all' ? undefined : tier,
        outOfCredits: outOfCredits || undefined,
        sort: isSortKey(sort?.id) ? sort.id : 'userId',
        direction: sort?.desc ? 'desc' : 'asc',
      },
      { placeholderData: keepPreviousData },
    ),
  );

  const open = (userId: string | null) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (userId) next.set('user', userId);
        else next.delete('user');
        return next;
      },
      // Switching between users does not pile up history entries; opening and closing does.
      { replace: !!userId && !!selectedUserId },
    );

  const columns = useMemo(
    () => [
      col.accessor('userId', {
        header: 'User ID',
        meta: { mono: true },
        cell: (c) => <span className="strong">{c.getValue()}</span>,
      }),
      col.accessor('email', {
        header: 'Email',
        cell: (c) => c.getValue() ?? <span className="muted">—</span>,
      }),
      col.accessor('tier', {
        header: 'Tier',
        meta: { width: 70 },
        cell: (c) => <TierBadge tier={c.getValue()} />,
      }),
      col.accessor('balance', {
        header: 'Balance',
        meta: { align: 'right', width: 110 },
        cell: (c) => {
          const r = c.row.original;
          return (
            <span className={r.balance === 0 ? 'balance-zero' : undefined} title={r.bonusBalance ? `${r.bonusBalance} of it bonus` : undefined}>
              {formatCount(r.balance)}
              {r.bonusBalance > 0 && <span className="cell-sub"> +{formatCount(r.bonusBalance)}b</span>}
            </span>
          );
        },
      }),
      col.accessor('monthlyAllowance', {
        header: 'Allowance',
        enableSorting: false,
        meta: { align: 'right', width: 90 },
        cell: (c) => formatCount(c.getValue()),
      }),
      col.accessor('consumedThisMonth', {
        header: 'Used this month',
        meta: { align: 'right', width: 130 },
        cell: (c) => formatCount(c.getValue()),
      }),
      col.accessor('lastActivity', {
        header: 'Last activity',
        meta: { width: 120 },
        cell: (c) => {
          const v = c.getValue();
          return v ? (
            <time dateTime={v} title={formatDateTime(v)}>
              {formatRelative(v)}
            </time>
          ) : (
            <span className="muted">never</span>
          );
        },
      }),
    ],
    [],
  );

  const filtered = !!settledSearch || tier !== 'all' || outOfCredits;
  const filter: UserFilter = { search: settledSearch || undefined, tier: tier === 'all' ? undefined : tier, outOfCredits: outOfCredits || undefined };

  return (
    <div className="page page-wide">
      <PageHeader
        title="Users"
        description="Every user's tier, monthly allowance and balance. Open a user for their credit history, grants and refunds."
        actions={
          admin && (
            <>
              <button type="button" className="button" onClick={() => setDialog('import')}>
                Import tiers
              </button>
              <button type="button" className="button button-primary" onClick={() => setDialog('create')}>
                New user
              </button>
            </>
          )
        }
      />
      <section className="section" aria-label="Users">
        <div className="toolbar">
          <SearchInput value={search} onChange={setSearch} label="Search users" placeholder="Search by user ID or email prefix" />
          <label className="toolbar-field">
            <span>Tier</span>
            <select value={tier} onChange={(e) => setTier(e.target.value as Tier | 'all')} aria-label="Tier">
              <option value="all">All tiers</option>
              {tiers.map((t) => (
                <option key={t} value={t}>
                  {t[0]!.toUpperCase() + t.slice(1)}
                </option>
              ))}
            </select>
          </label>
          <label className="toolbar-check">
            <input type="checkbox" checked={outOfCredits} onChange={(e) => setOutOfCredits(e.target.checked)} />
            Out of credits
          </label>
          {filtered && (
            <button
              type="button"
              className="button button-small"
              onClick={() => {
                setSearch('');
                setTier('all');
                setOutOfCredits(false);
              }}
            >
              Clear filters
            </button>
          )}
          <span className="toolbar-spacer" />
          <span className="toolbar-total" data-testid="users-total">
            {list.data ? `${formatCount(list.data.total)} ${list.data.total === 1 ? 'user' : 'users'}${filtered ? ' match' : ''}` : ''}
          </span>
          <ExportLink name="users" filter={{ search: settledSearch || undefined, tier: tier === 'all' ? undefined : tier, outOfCredits: outOfCredits ? 'true' : undefined }} />
          {admin && (
            <button type="button" className="button button-small" disabled={!list.data?.total} onClick={() => setDialog('bulk-grant')}>
              Bulk grant
            </button>
          )}
        </div>

        <DataTable
          manual
          label="Users"
          testId="users-table"
          columns={columns}
          data={list.data?.rows}
          getRowId={(u) => u.userId}
          sorting={sorting}
          onSortingChange={setSorting}
          loading={list.isPending}
          refreshing={list.isPlaceholderData}
          error={list.isError ? errorMessage(list.error) : null}
          emptyMessage={filtered ? 'No users match these filters.' : 'No users yet. Product apps create them with users.upsert.'}
          onRowClick={(u) => open(u.userId)}
          selectedRowId={selectedUserId}
          rowLabel={(u) => `User ${u.userId}${u.email ? ` ${u.email}` : ''}`}
        />
        <Pager page={page} pageSize={PAGE_SIZE} total={list.data?.total} onPage={setPage} noun="users" />
      </section>

      {admin && (
        <>
          <CreateUserDialog open={dialog === 'create'} onClose={() => setDialog(null)} onCreated={(userId) => void refresh().then(() => open(userId))} />
          <BulkGrantDialog open={dialog === 'bulk-grant'} filter={filter} filterLabel={describeFilter(filter)} onClose={() => setDialog(null)} onDone={() => void refresh()} />
          <TierImportDialog open={dialog === 'import'} onClose={() => setDialog(null)} onDone={() => void refresh()} />
        </>
      )}

      {selectedUserId && <UserPanel key={selectedUserId} userId={selectedUserId} onClose={() => open(null)} />}
    </div>
  );
}
