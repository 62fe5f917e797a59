import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { cliActor } from './audit';
import { createAdmin } from './admins';
import { generatePassword } from './passwords';
import { admins } from './tables';

/**
 * With no admin yet, creates one (ADMIN_EMAIL/ADMIN_PASSWORD, else admin@localhost with a random
 * password) and returns the generated password so the caller prints it once. Null when admins exist.
 */
export async function bootstrapAdmin(
  db: DbOrTx,
  opts: { email?: string; password?: string },
): Promise<{ email: string; generatedPassword: string | null } | null> {
  const [{ n } = { n: 0 }] = await db.select({ n: sql<number>`count(*)::int` }).from(admins);
  if (n > 0) return null;
  const email = opts.email ?? 'admin@localhost';
  const password = opts.password ?? generatePassword();
  await createAdmin(db, cliActor, { email, role: 'admin', password });
  return { email, generatedPassword: opts.password ? null : password };
}
