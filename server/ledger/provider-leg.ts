import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { DomainError } from '../errors';
import { LOCAL_PROVIDER } from '../pools/capture-draw';
import { drawFromPool } from '../pools/draw';
import { unknownPool } from '../pools/errors';

const providerInactive = (provider: string) => new DomainError('PRECONDITION_FAILED', 'PROVIDER_INACTIVE', `Provider ${provider} is inactive: its pool pays for nothing. Nothing was charged.`);

const poolCannotPay = (provider: string, credits: number) =>
  new DomainError('PRECONDITION_FAILED', 'PLATFORM_CREDITS_DEPLETED', `The ${provider} pool cannot pay for ${credits} credit${credits === 1 ? '' : 's'} right now. Nothing was charged.`);

/**
 * The provider leg of a charge that names the provider the product app called itself, inside the
 * caller's transaction: that provider's pool pays at its cost per credit (the built-in `local`
 * provider costs nothing). An unknown or inactive provider, or a pool that cannot pay, is a refusal
 * thrown before anything commits, so the user leg rolls back with it.
 */
export async function drawProviderLeg(db: DbOrTx, provider: string, credits: number): Promise<{ costUsd: string }> {
  const facts = await queryOne(
    db,
    z.object({ pool_status: col.textOrNull, provider_active: col.bool.nullable() }),
    sql`select (select status from credit_pools where provider = ${provider}) as pool_status,
               (select is_active from api_providers where name = ${provider}) as provider_active`,
  );
  if (facts?.provider_active === false) throw providerInactive(provider);
  if (provider === LOCAL_PROVIDER) return { costUsd: '0.000000' };
  if (!facts?.pool_status) throw unknownPool(provider);
  if (facts.pool_status === 'suspended') throw providerInactive(provider);
  const draw = await drawFromPool(db, provider, credits);
  if (!draw) throw poolCannotPay(provider, credits);
  return { costUsd: draw.costUsd };
}
