import type { DbOrTx } from '../db/client';
import { budgetSummary, type BudgetSummary } from '../pools/budget';
import { forecast } from './forecast';

/** The month's budget with the providers' cost to date and projected: the one source of the budget figures on every page. */
export async function monthBudget(db: DbOrTx): Promise<BudgetSummary> {
  return budgetSummary(db, (await forecast(db)).month);
}
