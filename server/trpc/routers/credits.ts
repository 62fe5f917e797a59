import {
  balanceSchema,
  captureInputSchema,
  consumeInputSchema,
  consumeResultSchema,
  historyInputSchema,
  historyResultSchema,
  releaseInputSchema,
  reservationSchema,
  reserveInputSchema,
  reserveResultSchema,
  transactionSchema,
} from '../../../shared/credits';
import { getBalance, getHistory } from '../../ledger/balance';
import { consumeCredits } from '../../ledger/consume';
import { captureReservation, releaseReservation, reserveCredits } from '../../ledger/reservations';
import { router } from '../init';
import { apiKeyProcedure, userReadProcedure } from '../procedures';

export const creditsRouter = router({
  balance: userReadProcedure.output(balanceSchema).query(({ ctx, input }) => getBalance(ctx.db, input.userId)),

  history: userReadProcedure
    .input(historyInputSchema)
    .output(historyResultSchema)
    .query(({ ctx, input }) => getHistory(ctx.db, input)),

  consume: apiKeyProcedure('credits:write')
    .input(consumeInputSchema)
    .output(consumeResultSchema)
    .mutation(({ ctx, input }) => consumeCredits(ctx.db, input)),

  reserve: apiKeyProcedure('credits:write')
    .input(reserveInputSchema)
    .output(reserveResultSchema)
    .mutation(({ ctx, input }) => reserveCredits(ctx.db, input)),

  capture: apiKeyProcedure('credits:write')
    .input(captureInputSchema)
    .output(transactionSchema)
    .mutation(({ ctx, input }) => captureReservation(ctx.db, input)),

  release: apiKeyProcedure('credits:write')
    .input(releaseInputSchema)
    .output(reservationSchema)
    .mutation(({ ctx, input }) => releaseReservation(ctx.db, input)),
});
