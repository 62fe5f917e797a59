import { and, desc, eq, gt, lt, ne, sql } from 'drizzle-orm';
import type { SessionView } from '../../shared/auth';
import { audit } from './audit';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { hashPassword, timingDummyHash, verifyPassword } from './passwords';
import { adminSessions, admins } from './tables';
import { newSecret, sha256 } from './tokens';
import type { LoginThrottle } from './login-throttle';
import type { SecretBox } from './secrets';
import type { SessionAdmin } from './session-admin';
import { checkSecondFactor } from './totp';

export const SESSION_COOKIE = 'cd_session';

export type LoginInput = { email: string; password: string; code?: string; address: string; userAgent?: string };

/**
 * Checks the password (throttled per email and address) and, for an admin with two-factor sign-in,
 * the code (throttled per admin and address under its own scope), then opens a session; returns
 * its cookie token. A right password without a code answers SECOND_FACTOR_REQUIRED and opens nothing.
 */
export async function login(db: DbOrTx, throttle: LoginThrottle, ttlHours: number, input: LoginInput, secrets?: SecretBox): Promise<{ token: string; expiresAt: Date; admin: SessionAdmin }> {
  const email = input.email.toLowerCase();
  let admin: typeof admins.$inferSelect | undefined;
  const outcome = await throttle.attempt({ scope: 'login', subject: email, address: input.address }, async () => {
    [admin] = await db.select().from(admins).where(eq(admins.email, email));
    const ok = admin ? await verifyPassword(admin.passwordHash, input.password) : await verifyPassword(await timingDummyHash(), input.password).then(() => false);
    return ok && !admin!.disabledAt;
  });
  if (!outcome.ok || !admin) throw new DomainError('UNAUTHORIZED', 'UNAUTHORIZED', 'Wrong email or password.');
  if (admin.totpEnabledAt) await requireSecondFactor(db, throttle, secrets, admin, input);
  const token = newSecret('');
  const expiresAt = new Date(Date.now() + ttlHours * 3_600_000);
  const id = sha256(token);
  await db.insert(adminSessions).values({ id, adminId: admin.id, expiresAt, ip: input.address, userAgent: input.userAgent?.slice(0, 300) });
  return { token, expiresAt, admin: { id: admin.id, email: admin.email, role: admin.role, sessionId: id, mustChangePassword: admin.mustChangePassword } };
}

async function requireSecondFactor(db: DbOrTx, throttle: LoginThrottle, secrets: SecretBox | undefined, admin: typeof admins.$inferSelect, input: LoginInput): Promise<void> {
  if (!input.code) {
    throw new DomainError('UNAUTHORIZED', 'SECOND_FACTOR_REQUIRED', 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.');
  }
  if (!secrets) throw new Error('login: the secret box is needed to check a TOTP code');
  const code = input.code;
  const outcome = await throttle.attempt({ scope: 'totp', subject: admin.id, address: input.address }, () => checkSecondFactor(db, secrets, admin, code));
  if (!outcome.ok) throw new DomainError('UNAUTHORIZED', 'SECOND_FACTOR_REQUIRED', 'That code is wrong or was already used. Enter the current code.');
}

/**
 * The admin behind a cookie token, or null when the session is unknown, expired or the admin
 * disabled. Moves the session's last-seen time when it is more than a minute old.
 */
export async function resolveSession(db: DbOrTx, token: string): Promise<SessionAdmin | null> {
  const id = sha256(token);
  const [row] = await db
    .select({
      id: admins.id,
      email: admins.email,
      role: admins.role,
      disabledAt: admins.disabledAt,
      mustChangePassword: admins.mustChangePassword,
      stale: sql<boolean>`${adminSessions.lastSeenAt} < now() - interval '1 minute'`,
    })
    .from(adminSessions)
    .innerJoin(admins, eq(admins.id, adminSessions.adminId))
    .where(and(eq(adminSessions.id, id), gt(adminSessions.expiresAt, new Date())));
  if (!row || row.disabledAt) return null;
  if (row.stale)
    await db
      .update(adminSessions)
      .set({ lastSeenAt: sql`now()` })
      .where(eq(adminSessions.id, id));
  return { id: row.id, email: row.email, role: row.role, sessionId: id, mustChangePassword: row.mustChangePassword };
}

/** The admin's own open sessions, most recently seen first. */
export async function listSessions(db: DbOrTx, admin: SessionAdmin): Promise<SessionView[]> {
  const rows = await db
    .select()
    .from(adminSessions)
    .where(and(eq(adminSessions.adminId, admin.id), gt(adminSessions.expiresAt, new Date())))
    .orderBy(desc(adminSessions.lastSeenAt), desc(adminSessions.createdAt));
  return rows.map((r) => ({
    id: r.handle,
    createdAt: r.createdAt.toISOString(),
    lastSeenAt: r.lastSeenAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    ip: r.ip,
    userAgent: r.userAgent,
    current: r.id === admin.sessionId,
  }));
}

/** Ends one of the admin's own sessions (another admin's is NOT_FOUND); says whether it was the calling one. */
export async function revokeSession(db: DbOrTx, admin: SessionAdmin, handle: string): Promise<{ current: boolean }> {
  return db.transaction(async (tx) => {
    const [gone] = await tx
      .delete(adminSessions)
      .where(and(eq(adminSessions.handle, handle), eq(adminSessions.adminId, admin.id)))
      .returning({ id: adminSessions.id });
    if (!gone) throw new DomainError('NOT_FOUND', 'NOT_FOUND', 'No open session of yours with that id.');
    await audit(tx, { adminId: admin.id, label: admin.email }, { action: 'admin.session.revoke', targetType: 'admin', targetId: admin.id, after: { session: handle } });
    return { current: gone.id === admin.sessionId };
  });
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
export async function changePassword(db: DbOrTx, throttle: LoginThrottle, admin: SessionAdmin, input: { currentPassword: string; newPassword: string; address: string }): Promise<void> {
  await checkOwnPassword(db, throttle, admin, { password: input.currentPassword, address: input.address, field: 'currentPassword' });
  await db.transaction(async (tx) => {
    // The forced change at first sign-in is done once the password is the admin's own.
    await tx
      .update(admins)
      .set({ passwordHash: await hashPassword(input.newPassword), mustChangePassword: false })
      .where(eq(admins.id, admin.id));
    await tx.delete(adminSessions).where(and(eq(adminSessions.adminId, admin.id), ne(adminSessions.id, admin.sessionId)));
    await audit(tx, { adminId: admin.id, label: admin.email }, { action: 'admin.password', targetType: 'admin', targetId: admin.id });
  });
}

/**
 * Checks the signed-in admin's own password before a sensitive change, throttled like a login (per
 * admin and address). A session that spends its guesses is ended: whoever holds it does not know
 * the password.
 */
export async function checkOwnPassword(db: DbOrTx, throttle: LoginThrottle, admin: SessionAdmin, input: { password: string; address: string; field: string }): Promise<void> {
  const guess = async () => {
    const [row] = await db.select({ passwordHash: admins.passwordHash }).from(admins).where(eq(admins.id, admin.id));
    return row !== undefined && (await verifyPassword(row.passwordHash, input.password));
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
    throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `${input.field}: the current password is wrong.`);
  }
}

async function endGuessingSession(db: DbOrTx, admin: SessionAdmin): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(adminSessions).where(eq(adminSessions.id, admin.sessionId));
    await audit(tx, { adminId: admin.id, label: admin.email }, { action: 'admin.session.ended', targetType: 'admin', targetId: admin.id });
  });
}
