import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from './client';
import { col, queryOne } from './rows';

/**
 * This database's installation id, created by whichever process starts first: the insert is a
 * no-op when a row exists (the primary key admits one), so concurrent first starts agree on one id.
 */
export async function installationId(db: DbOrTx): Promise<string> {
  await db.execute(sql`insert into installation (installation_id) values (${randomUUID()}) on conflict do nothing`);
  const row = await queryOne(db, z.object({ installation_id: col.text }), sql`select installation_id from installation`);
  return row!.installation_id;
}
