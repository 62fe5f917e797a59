import { sql, type SQL } from 'drizzle-orm';
import type { UserFilter } from '../../shared/users';

/**
 * The Users page's filters as SQL over `users u left join user_credits uc`: the list and every bulk
 * operation on "the users shown" read the same condition, so they always mean the same set.
 */
export function userFilterWhere(filter: UserFilter): SQL {
  const where: SQL[] = [sql`true`];
  if (filter.search) {
    const pattern = `${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(sql`(u.user_id like ${pattern} or u.email like ${pattern.toLowerCase()})`);
  }
  if (filter.tier) where.push(sql`u.tier = ${filter.tier}`);
  if (filter.outOfCredits) where.push(sql`coalesce(uc.current_balance + uc.bonus_balance, 0) = 0`);
  return sql.join(where, sql` and `);
}
