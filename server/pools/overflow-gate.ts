import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { queryOne } from '../db/rows';
import { platformDepleted } from './errors';

/** An overflow to the platform is allowed only while some unsuspended pool can pay for it. */
export async function assertPlatformCanPay(db: DbOrTx, credits: number): Promise<void> {
  const row = await queryOne<{ ok: boolean }>(
    db,
    sql`select exists (
          select 1 from credit_pools p
          where p.status <> 'suspended'
            and (select coalesce(sum(balance), 0) from credit_pool_stripes s where s.provider = p.provider) >= ${credits}
        ) as ok`,
  );
  if (!row?.ok) throw platformDepleted();
}
