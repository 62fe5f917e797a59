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
import { captureReservation } from '../../ledger/capture-reservation';
import { releaseReservation } from '../../ledger/release-reservation';
import { reserveCredits } from '../../ledger/reserve-credits';
import { router } from '../init';
import { apiKeyProcedure, userReadProcedure } from '../procedures';

export const creditsRouter = router({
  balance: userReadProcedure
    .meta({ openapi: { summary: 'Read a user’s balance', example: { userId: 'user_42' } } })
    .output(balanceSchema)
    .query(({ ctx, input }) => getBalance(ctx.db, input.userId)),

  /** An API key reads the full entries; a user token the public view (parsing strips the rest). */
  history: userReadProcedure
    .meta({
      openapi: {
        summary: 'Page through a user’s credit history, newest first',
        description: 'Pass `nextCursor` back as `cursor` for the next page. A user token sees the public view of each entry.',
        example: { userId: 'user_42', limit: 10 },
      },
    })
    .input(historyInputSchema)
    .output(z.union([historyResultSchema, publicHistoryResultSchema]))
    .query(async ({ ctx, input }) => {
      const page = await getHistory(ctx.db, input);
      return ctx.reader.kind === 'user' ? publicHistoryResultSchema.parse(page) : page;
    }),

  consume: apiKeyProcedure('credits:write')
    .meta({
      openapi: {
        summary: 'Charge credits for an enhancement the product ran itself',
        description: 'Idempotent on `idempotencyKey`: a replay answers the first result and charges nothing twice. A user without credits is refused with reason INSUFFICIENT_CREDITS.',
        example: { userId: 'user_42', credits: 1, enhancementType: 'lighting', idempotencyKey: 'order-1001-lighting' },
      },
    })
    .input(consumeInputSchema)
    .output(consumeResultSchema)
    // The idempotency key belongs to the calling key: another key's replay is a conflict, not this one's result.
    .mutation(({ ctx, input }) => consumeCredits(ctx.db, { ...input, apiKeyId: ctx.apiKey.id })),

  reserve: apiKeyProcedure('credits:write')
    .meta({
      openapi: {
        summary: 'Hold credits before a long job; capture or release the hold afterwards',
        description: 'An uncaptured hold is released by itself after `ttlSeconds`.',
        example: { userId: 'user_42', credits: 2, enhancementType: 'upscale', idempotencyKey: 'order-1002-upscale', ttlSeconds: 300 },
      },
    })
    .input(reserveInputSchema)
    .output(reserveResultSchema)
    .mutation(({ ctx, input }) => reserveCredits(ctx.db, { ...input, apiKeyId: ctx.apiKey.id })),

  capture: apiKeyProcedure('credits:write')
    .meta({
      openapi: {
        summary: 'Charge a held reservation',
        description: 'Only the API key that made the hold may capture it.',
        example: { reservationId: '4f9c2a7e-1b3d-4c8e-9a6f-2d5b7e8c1a03' },
      },
    })
    .input(captureInputSchema)
    .output(transactionSchema)
    // A hold belongs to the key that made it: another key's capture or release is NOT_FOUND.
    .mutation(({ ctx, input }) => captureReservation(ctx.db, { ...input, apiKeyId: ctx.apiKey.id })),

  release: apiKeyProcedure('credits:write')
    .meta({
      openapi: {
        summary: 'Give a held reservation’s credits back',
        example: { reservationId: '7d2e9b14-5c6a-4f3e-8b1d-9e0a3c6f5b27', reason: 'The user cancelled the upload.' },
      },
    })
    .input(releaseInputSchema)
    .output(reservationSchema)
    .mutation(({ ctx, input }) => releaseReservation(ctx.db, { ...input, apiKeyId: ctx.apiKey.id })),
});
