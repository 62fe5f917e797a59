import { ledgerSearchInputSchema, ledgerSearchSchema } from '../../../shared/ledger';
import { searchLedger } from '../../ledger/ledger-search';
import { router } from '../init';
import { adminProcedure } from '../procedures';

export const ledgerRouter = router({
  search: adminProcedure('analyst')
    .input(ledgerSearchInputSchema)
    .output(ledgerSearchSchema)
    .query(({ ctx, input }) => searchLedger(ctx.db, input)),
});
