import { z } from 'zod';
import {
  balanceSchema,
  captureInputSchema,
  consumeInputSchema,
  consumeResultSchema,
  historyInputSchema,
  historyResultSchema,
  publicHistoryResultSchema,
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

  /** An API key reads the full entries; a user token the public view (parsing strips the rest). */
  history: userReadProcedure
    .input(historyInputSchema)
    .output(z.union([historyResultSchema, publicHistoryResultSchema]))
    .query(async ({ ctx, input }) => {
      const page = await getHistory(ctx.db, input);
      return ctx.reader.kind === 'user' ? publicHistoryResultSchema.parse(page) : page;
    }),

  consume: apiKeyProcedure('credits:write')
    .input(consumeInputSchema)
    .output(consumeResultSchema)
    .mutation(({ ctx, input }) => consumeCredits(ctx.db, input)),

  reserve: apiKeyProcedure('credits:write')
    .input(reserveInputSchema)
    .output(reserveResultSchema)
    .mutation(({ ctx, input }) => reserveCredits(ctx.db, { ...input, apiKeyId: ctx.apiKey.id })),

  capture: apiKeyProcedure('credits:write')
    .input(captureInputSchema)
    .output(transactionSchema)
    // A hold belongs to the key that made it: another key's capture or release is NOT_FOUND.
    .mutation(({ ctx, input }) => captureReservation(ctx.db, { ...input, apiKeyId: ctx.apiKey.id })),

  release: apiKeyProcedure('credits:write')
    .input(releaseInputSchema)
    .output(reservationSchema)
    .mutation(({ ctx, input }) => releaseReservation(ctx.db, { ...input, apiKeyId: ctx.apiKey.id })),
});
