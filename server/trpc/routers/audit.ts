import { auditListInputSchema, auditListSchema } from '../../../shared/audit';
import { listAudit } from '../../auth/audit-list';
import { router } from '../init';
import { adminProcedure } from '../procedures';

// Reading the trail changes nothing: analysts read it like every other admin table.
export const auditRouter = router({
  list: adminProcedure('analyst')
    .input(auditListInputSchema)
    .output(auditListSchema)
    .query(({ ctx, input }) => listAudit(ctx.db, input)),
});
