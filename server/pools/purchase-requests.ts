import { and, count, desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { toRequestView } from './request-view';
import { creditPurchaseRequests } from './tables';

/** The Purchase requests table's filters; its CSV export uses them too. */
export const purchaseRequestWhere = (input: { status?: string; provider?: string }) =>
  and(input.status ? eq(creditPurchaseRequests.status, input.status) : undefined, input.provider ? eq(creditPurchaseRequests.provider, input.provider) : undefined);

export async function listPurchaseRequests(db: DbOrTx, input: { page: number; pageSize: number; status?: string; provider?: string }) {
  const where = purchaseRequestWhere(input);
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(creditPurchaseRequests)
      .where(where)
      .orderBy(desc(creditPurchaseRequests.id))
      .limit(input.pageSize)
      .offset(input.page * input.pageSize),
    db.select({ n: count() }).from(creditPurchaseRequests).where(where),
  ]);
  return { rows: rows.map(toRequestView), total: total?.n ?? 0 };
}
