import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { platformDepleted } from './errors';

/**
 * SQL that is true while some unsuspended pool can pay `credits` (an overflow to the platform is
 * allowed only then). One stripe holding that much is enough, since no stripe is ever negative: it
 * stops at the first such stripe instead of summing every pool's stripes on every request. Only
 * when no single stripe can pay is a pool's sum looked at (credits spread thin over its stripes).
 */
export const platformCanPaySql = (credits: number) => sql`(
  exists (
    select 1 from credit_pool_stripes s join credit_pools p on p.provider = s.provider
    where s.balance >= ${credits} and p.status <> 'suspended')
  or exists (
    select 1 from credit_pools p
    where p.status <> 'suspended'
      and (select coalesce(sum(s.balance), 0) from credit_pool_stripes s where s.provider = p.provider) >= ${credits}))`;

/** Refuses an overflow with PLATFORM_CREDITS_DEPLETED unless some unsuspended pool can pay it. */
export async function assertPlatformCanPay(db: DbOrTx, credits: number): Promise<void> {
  const row = await queryOne(db, z.object({ ok: col.bool }), sql`select ${platformCanPaySql(credits)} as ok`);
  if (!row?.ok) throw platformDepleted();
}
