import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { userListInputSchema } from '../../shared/credits';
import { tierSchema } from '../../shared/enums';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';
import { userFilterWhere } from './user-filter';

type UserListInput = z.infer<typeof userListInputSchema>;

const sortColumns: Record<UserListInput['sort'], SQL> = {
  userId: sql`u.user_id`,
  email: sql`u.email`,
  tier: sql`u.tier`,
  balance: sql`coalesce(uc.current_balance + uc.bonus_balance, 0)`,
  consumedThisMonth: sql`coalesce(uc.consumed_this_month, 0)`,
  lastActivity: sql`uc.updated_at`,
};

const userListRow = z.object({
  user_id: col.text,
  email: col.textOrNull,
  tier: tierSchema,
  monthly_allowance: col.integer,
  balance: col.integer,
  bonus_balance: col.integer,
  consumed_this_month: col.integer,
  last_activity: col.textOrNull,
  total: col.integer,
});

/** The Users table: server-side paging, sorting, search by id or email prefix, tier and out-of-credits filters. */
export async function listUsers(db: DbOrTx, input: UserListInput) {
  const direction = input.direction === 'desc' ? sql`desc nulls last` : sql`asc nulls first`;
  const rows = await queryRows(
    db,
    userListRow,
    sql`
    select u.user_id, u.email, u.tier,
           coalesce(uc.monthly_allowance, 0) as monthly_allowance,
           coalesce(uc.current_balance + uc.bonus_balance, 0) as balance,
           coalesce(uc.bonus_balance, 0) as bonus_balance,
           coalesce(uc.consumed_this_month, 0) as consumed_this_month,
           to_char(uc.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as last_activity,
           count(*) over ()::int as total
    from users u left join user_credits uc on uc.user_id = u.user_id
    where ${userFilterWhere(input)}
    order by ${sortColumns[input.sort]} ${direction}, u.user_id
    limit ${input.pageSize} offset ${input.page * input.pageSize}`,
  );
  return {
    total: rows[0]?.total ?? 0,
    rows: rows.map((r) => ({
      userId: r.user_id,
      email: r.email,
      tier: r.tier,
      monthlyAllowance: r.monthly_allowance,
      balance: r.balance,
      bonusBalance: r.bonus_balance,
      consumedThisMonth: r.consumed_this_month,
      lastActivity: r.last_activity,
    })),
  };
}
