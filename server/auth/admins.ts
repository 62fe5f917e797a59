import { asc, eq } from 'drizzle-orm';
import type { AdminRole } from '../../shared/enums';
import type { AdminView } from '../../shared/auth';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { audit, type Actor } from './audit';
import { generatePassword, hashPassword } from './passwords';
import { admins } from './tables';

type AdminRow = typeof admins.$inferSelect;

export const toAdminView = (a: AdminRow): AdminView => ({
  id: a.id,
  email: a.email,
  role: a.role,
  createdAt: a.createdAt.toISOString(),
  disabledAt: a.disabledAt?.toISOString() ?? null,
  mustChangePassword: a.mustChangePassword,
  totpEnabled: a.totpEnabledAt !== null,
});

export async function listAdmins(db: DbOrTx): Promise<AdminView[]> {
  const rows = await db.select().from(admins).orderBy(asc(admins.email));
  return rows.map(toAdminView);
}

/**
 * Creates an account. Without a password one is generated and answered this once; an account with
 * a generated password (or created with `mustChangePassword`) can do nothing but change it until it does.
 */
export async function createAdmin(
  db: DbOrTx,
  actor: Actor,
  input: { email: string; role: AdminRole; password?: string; mustChangePassword?: boolean },
): Promise<AdminView & { generatedPassword: string | null }> {
  const generatedPassword = input.password === undefined ? generatePassword() : null;
  const passwordHash = await hashPassword(input.password ?? generatedPassword!);
  const mustChangePassword = generatedPassword !== null || input.mustChangePassword === true;
  const [row] = await db.insert(admins).values({ email: input.email.toLowerCase(), role: input.role, passwordHash, mustChangePassword }).onConflictDoNothing({ target: admins.email }).returning();
  if (!row) throw new DomainError('CONFLICT', 'CONFLICT', `An admin with email ${input.email} already exists.`);
  const view = toAdminView(row);
  await audit(db, actor, { action: 'admin.create', targetType: 'admin', targetId: row.id, after: view });
  return { ...view, generatedPassword };
}

export async function updateAdmin(db: DbOrTx, actor: Actor, input: { id: string; role?: AdminRole; disabled?: boolean }): Promise<AdminView> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(admins).where(eq(admins.id, input.id)).for('update');
    if (!before) throw new DomainError('NOT_FOUND', 'NOT_FOUND', 'No such admin.');
    if (before.id === actor.adminId && (input.disabled || input.role === 'analyst')) {
      throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'You cannot disable or demote your own account.');
    }
    const disabledAt = input.disabled === undefined ? before.disabledAt : input.disabled ? (before.disabledAt ?? new Date()) : null;
    const [after] = await tx
      .update(admins)
      .set({ role: input.role ?? before.role, disabledAt })
      .where(eq(admins.id, input.id))
      .returning();
    const view = toAdminView(after!);
    await audit(tx, actor, { action: 'admin.update', targetType: 'admin', targetId: input.id, before: toAdminView(before), after: view });
    return view;
  });
}
