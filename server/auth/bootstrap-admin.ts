import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { cliActor } from './audit';
import { createAdmin } from './admins';
import { admins } from './tables';

/**
 * With no admin yet, creates one (ADMIN_EMAIL/ADMIN_PASSWORD, else admin@localhost with a random
 * password) and returns the generated password so the caller prints it once. Null when admins exist.
 * A generated password must be changed at first sign-in, like any other.
 */
export async function bootstrapAdmin(db: DbOrTx, opts: { email?: string; password?: string }): Promise<{ email: string; generatedPassword: string | null } | null> {
  const [{ n } = { n: 0 }] = await db.select({ n: sql<number>`count(*)::int` }).from(admins);
  if (n > 0) return null;
  const email = opts.email ?? 'admin@localhost';
  let created;
  try {
    created = await createAdmin(db, cliActor, { email, role: 'admin', password: opts.password });
  } catch (err) {
    // Another process starting at the same moment created it first.
    if (err instanceof DomainError && err.reason === 'CONFLICT') return null;
    throw err;
  }
  return { email, generatedPassword: created.generatedPassword };
}
