import { asc, eq, sql } from 'drizzle-orm';
import type { PriceMapping, PriceMappingInput } from '../../shared/payments';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { stripePrices } from './tables';

type PriceRow = typeof stripePrices.$inferSelect;

export const toPriceMapping = (r: PriceRow): PriceMapping => ({
  priceId: r.priceId,
  kind: r.kind,
  tier: r.tier ?? null,
  credits: r.credits,
  expiresInDays: r.expiresInDays,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

export async function listPrices(db: DbOrTx): Promise<PriceMapping[]> {
  return (await db.select().from(stripePrices).orderBy(asc(stripePrices.kind), asc(stripePrices.priceId))).map(toPriceMapping);
}

export async function findPrice(db: DbOrTx, priceId: string): Promise<PriceMapping | null> {
  const [row] = await db.select().from(stripePrices).where(eq(stripePrices.priceId, priceId));
  return row ? toPriceMapping(row) : null;
}

/**
 * Maps a Stripe price to a tier or a pack, or changes its mapping. A changed pack applies to checkouts
 * completed from now on; packs granted before keep what they granted.
 */
export async function upsertPrice(db: DbOrTx, actor: Actor, input: PriceMappingInput): Promise<PriceMapping> {
  const values = {
    kind: input.kind,
    tier: input.kind === 'tier' ? (input.tier ?? null) : null,
    credits: input.kind === 'pack' ? (input.credits ?? null) : null,
    expiresInDays: input.kind === 'pack' ? (input.expiresInDays ?? null) : null,
  };
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(stripePrices).where(eq(stripePrices.priceId, input.priceId)).for('update');
    const [row] = await tx
      .insert(stripePrices)
      .values({ priceId: input.priceId, ...values })
      .onConflictDoUpdate({ target: stripePrices.priceId, set: { ...values, updatedAt: sql`now()` } })
      .returning();
    const after = toPriceMapping(row!);
    await audit(tx, actor, {
      action: 'payments.price.upsert',
      targetType: 'stripe_price',
      targetId: input.priceId,
      before: before ? toPriceMapping(before) : null,
      after,
    });
    return after;
  });
}
