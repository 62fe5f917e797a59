import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { drawFromPool } from './draw';
import { platformDepleted, unknownPool } from './errors';

/** The built-in provider runs on our own server: it costs nothing and has no pool. */
export const LOCAL_PROVIDER = 'local';

/**
 * The provider leg of a capture that names its provider: that provider's pool pays at its cost per
 * credit. A provider with no pool is unknown; a pool that cannot pay refuses the capture.
 */
export async function drawForCapture(db: DbOrTx, provider: string, credits: number, reservationId: string): Promise<{ costUsd: string }> {
  if (provider === LOCAL_PROVIDER) return { costUsd: '0' };
  const draw = await drawFromPool(db, provider, credits, { reservationId });
  if (draw) return { costUsd: draw.costUsd };
  const exists = await queryOne(db, z.object({ ok: col.bool }), sql`select exists (select 1 from credit_pools where provider = ${provider}) as ok`);
  throw exists?.ok ? platformDepleted() : unknownPool(provider);
}
