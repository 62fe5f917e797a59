import { and, eq, gt, lt, ne } from 'drizzle-orm';
import { audit } from './audit';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import type { AdminRole } from '../../shared/enums';
import { hashPassword, timingDummyHash, verifyPassword } from './passwords';
import { adminSessions, admins } from './tables';
import { newSecret, sha256 } from './tokens';
import type { LoginThrottle } from './login-throttle';

export const SESSION_COOKIE = 'cd_session';

export type SessionAdmin = { id: string; email: string; role: AdminRole; sessionId: string };

export type LoginInput = { email: string; password: string; address: string; userAgent?: string };

/** Checks the password (throttled per email and address) and opens a session; returns its cookie token. */
export async function login(
  db: DbOrTx,
  throttle: LoginThrottle,
  ttlHours: number,
  input: LoginInput,
): Promise<{ token: string; expiresAt: Date; admin: SessionAdmin }> {
  const email = input.email.toLowerCase();
  await throttle.assertAllowed(email, input.address);
  const [admin] = await db.select().from(admins).where(eq(admins.email, email));
  const ok = admin
    ? await verifyPassword(admin.passwordHash, input.password)
    : await verifyPassword(await timingDummyHash(), input.password).then(() => false);
  if (!admin || !ok || admin.disabledAt) {
    await throttle.recordFailure(email, input.address);
    throw new DomainError('UNAUTHORIZED', 'UNAUTHORIZED', 'Wrong email or password.');
  }
  await throttle.recordSuccess(email);
  const token = newSecret('');
  const expiresAt = new Date(Date.now() + ttlHours * 3_600_000);
  const id = sha256(token);
  await db.insert(adminSessions).values({ id, adminId: admin.id, expiresAt, ip: input.address, userAgent: input.userAgent?.slice(0, 300) });
  return { token, expiresAt, admin: { id: admin.id, email: admin.email, role: admin.role, sessionId: id } };
}

/** The admin behind a cookie token, or null when the session is unknown, expired or the admin disabled. */
export async function resolveSession(db: DbOrTx, token: string): Promise<SessionAdmin | null> {
  const id = sha256(token);
  const [row] = await db
    .select({ id: admins.id, email: admins.email, role: admins.role, disabledAt: admins.disabledAt })
    .from(adminSessions)
    .innerJoin(admins, eq(admins.id, adminSessions.adminId))
    .where(and(eq(adminSessions.id, id), gt(adminSessions.expiresAt, new Date())));
  if (!row || row.disabledAt) return null;
  return { id: row.id, email: row.email, role: row.role, sessionId: id };
}

export async function logout(db: DbOrTx, sessionId: string): Promise<void> {
  await db.delete(adminSessions).where(eq(adminSessions.id, sessionId));
}

export async function deleteExpiredSessions(db: DbOrTx): Promise<number> {
  const gone = await db.delete(adminSessions).where(lt(adminSessions.expiresAt, new Date())).returning({ id: adminSessions.id });
  return gone.length;
}

/**
 * Changes the signed-in admin's password after checking the current one, and ends their other
 * sessions (a changed password should log out a stolen session).
 */
export async function changePassword(
  db: DbOrTx,
  admin: SessionAdmin,
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  const [row] = await db.select().from(admins).where(eq(admins.id, admin.id));
  if (!row || !(await verifyPassword(row.passwordHash, input.currentPassword))) {
    throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'currentPassword: the current password is wrong.');
  }
  await db.transaction(async (tx) => {
    await tx.update(admins).set({ passwordHash: await hashPassword(input.newPassword) }).where(eq(admins.id, admin.id));
    await tx.delete(adminSessions).where(and(eq(adminSessions.adminId, admin.id), ne(adminSessions.id, admin.sessionId)));
    await audit(tx, { adminId: admin.id, label: admin.email }, { action: 'admin.password', targetType: 'admin', targetId: admin.id });
  });
}
