import { sql } from 'drizzle-orm';
import type { AppDeps } from '../app-deps';
import { enqueueSubmitted } from '../jobs/enhance-jobs';
import { reserveCredits } from '../ledger/reserve-credits';
import { submitEnhancement } from '../providers/async-enhancement';
import { key, newUser } from './ledger-helpers';

export type SeedContext = { deps: AppDeps; apiKeyId: string; imageUrl: string };

/**
 * A pending hold with exactly the example's reservationId, made by the test's API key (a hold
 * belongs to the key that made it), so the documented capture or release succeeds as written.
 */
async function holdWithExampleId(ctx: SeedContext, example: unknown) {
  const { reservationId } = example as { reservationId: string };
  const db = ctx.deps.dbHandle.db;
  const userId = await newUser(db, 'plus');
  const hold = await reserveCredits(db, { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key(), apiKeyId: ctx.apiKeyId });
  await db.transaction(async (tx) => {
    await tx.execute(sql`update credit_reservations set id = ${reservationId} where id = ${hold.reservationId}`);
    await tx.execute(sql`update credit_transactions set reservation_id = ${reservationId} where reservation_id = ${hold.reservationId}`);
  });
}

/**
 * A submitted enhancement with exactly the example's enhancementId, by the test's API key (only the
 * submitting key may read it), on a local image, so the documented enhance.get answers it.
 */
async function submittedWithExampleId(ctx: SeedContext, example: unknown) {
  const { enhancementId } = example as { enhancementId: string };
  const db = ctx.deps.dbHandle.db;
  const userId = await newUser(db, 'plus');
  const input = { userId, inputImageUrl: ctx.imageUrl, enhancementType: 'lighting' as const, idempotencyKey: key() };
  const submitted = await submitEnhancement(ctx.deps.gateway, (id) => enqueueSubmitted(ctx.deps.jobs, id), input, { apiKeyId: ctx.apiKeyId });
  await db.execute(sql`update enhancement_requests set enhancement_id = ${enhancementId} where enhancement_id = ${submitted.enhancementId}`);
}

/**
 * What a documented example needs in the database before it is called, by procedure. Examples run
 * after `users.upsert`'s, so the example user exists; a procedure whose example needs more (a row
 * it names by id) adds its seed here.
 */
export const exampleSeeds: Record<string, (ctx: SeedContext, example: unknown) => Promise<void>> = {
  'credits.capture': holdWithExampleId,
  'credits.release': holdWithExampleId,
  'enhance.get': submittedWithExampleId,
};

/**
 * Examples that cannot succeed on a test machine, with the refusal they get and an input that does
 * succeed there (called as documented too, so the success schema is still checked against a real answer).
 */
export const refusedExamples: Record<string, { reason: string; why: string; liveInput: (ctx: SeedContext, example: unknown) => unknown }> = {
  'enhance.run': {
    reason: 'BAD_REQUEST',
    why: 'its image URL is on the public internet, which a test machine does not reach',
    liveInput: (ctx, example) => ({ ...(example as object), inputImageUrl: ctx.imageUrl, idempotencyKey: key() }),
  },
  'enhance.submit': {
    reason: 'BAD_REQUEST',
    why: 'its image URL is on the public internet, which a test machine does not reach (submit checks that the name resolves)',
    liveInput: (ctx, example) => ({ ...(example as object), inputImageUrl: ctx.imageUrl, idempotencyKey: key() }),
  },
};
