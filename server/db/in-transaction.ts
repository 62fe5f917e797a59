import { PgTransaction } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './client';

/**
 * Runs `work` in the caller's transaction when given one, or in a transaction of its own: steps
 * that must commit together, without the savepoint (two more round trips) that `tx.transaction`
 * would open inside a caller's transaction.
 */
export function inTransaction<T>(db: DbOrTx, work: (tx: DbOrTx) => Promise<T>): Promise<T> {
  return db instanceof PgTransaction ? work(db) : db.transaction(work);
}
