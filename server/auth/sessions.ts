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
  let admin: typeof admins.$inferSelect | undefined;
  const outcome = await throttle.attempt({ scope: 'login', subject: email, address: input.address }, async () => {
    [admin] = await db.select().from(admins).where(eq(admins.email, email));
    const ok = admin
      ? await verifyPassword(admin.passwordHash, input.password)
      : await verifyPassword(await timingDummyHash(), input.password).then(() => false);
    return ok && !admin!.disabledAt;
  });
  if (!outcome.ok || !admin) throw new DomainError('UNAUTHORIZED', 'UNAUTHORIZED', 'Wrong email or password.');
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
 * Changes the signed-in admin's password after checking the current one (throttled like a login,
 * per admin and address), and ends their other sessions (a changed password should log out a
 * stolen session). A session that spends its guesses is ended: whoever holds it does not know
 * the password.
 */
export async function changePassword(
  db: DbOrTx,
  throttle: LoginThrottle,
  admin: SessionAdmin,
  input: { currentPassword: string; newPassword: string; address: string },
): Promise<void> {
  const guess = async () => {
    const [row] = await db.select({ passwordHash: admins.passwordHash }).from(admins).where(eq(admins.id, admin.id));
    return row !== undefined && (await verifyPassword(row.passwordHash, input.currentPassword));
  };
  const outcome = await throttle.attempt({ scope: 'password', subject: admin.id, address: input.address }, guess).catch(async (err: unknown) => {
    if (err instanceof DomainError && err.reason === 'TOO_MANY_REQUESTS') await endGuessingSession(db, admin);
    throw err;
  });
  if (!outcome.ok) {
    if (outcome.remaining === 0) {
      await endGuessingSession(db, admin);
      throw new DomainError('UNAUTHORIZED', 'UNAUTHORIZED', 'Too many wrong current passwords: this session has ended. Sign in again.');
    }
    throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'currentPassword: the current password is wrong.');
  }
  await db.transaction(async (tx) => {
    await tx.update(admins).set({ passwordHash: await hashPassword(input.newPassword) }).where(eq(admins.id, admin.id));
    await tx.delete(adminSessions).where(and(eq(adminSessions.adminId, admin.id), ne(adminSessions.id, admin.sessionId)));
    await audit(tx, { adminId: admin.id, label: admin.email }, { action: 'admin.password', targetType: 'admin', targetId: admin.id });
  });
}

async function endGuessingSession(db: DbOrTx, admin: SessionAdmin): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(adminSessions).where(eq(adminSessions.id, admin.sessionId));
    await audit(tx, { adminId: admin.id, label: admin.email }, { action: 'admin.session.ended', targetType: 'admin', targetId: admin.id });
  });
}
