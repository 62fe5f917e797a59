import { randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { audit } from './audit';
import type { LoginThrottle } from './login-throttle';
import type { SecretBox } from './secrets';
import type { SessionAdmin } from './session-admin';
import { adminRecoveryCodes, admins } from './tables';
import { sha256 } from './tokens';

const ISSUER = 'Creditdesk';
const PERIOD_SECONDS = 30;
const RECOVERY_CODE_COUNT = 10;
/** Lowercase letters and digits without look-alikes (0/o, 1/l/i): easy to read off paper. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

const totpFor = (email: string, secretBase32: string) => new TOTP({ issuer: ISSUER, label: email, algorithm: 'SHA1', digits: 6, period: PERIOD_SECONDS, secret: Secret.fromBase32(secretBase32) });

/** `xxxxx-xxxxx`: ten characters of a 31-letter alphabet (about 49 bits), hyphenated for reading. */
function newRecoveryCode(): string {
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

/** What a typed recovery code is compared as: case, spaces and hyphens do not matter. */
const normaliseRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');
const hashRecoveryCode = (code: string) => sha256(normaliseRecoveryCode(code));

/**
 * The time step a code is valid for, or null. One step either side is accepted for clock drift;
 * a step at or before the last accepted one is refused, so a code seen over a shoulder cannot be
 * used again.
 */
function acceptedStep(email: string, secretBase32: string, code: string, lastStep: number | null, now: Date): number | null {
  const delta = totpFor(email, secretBase32).validate({ token: code, timestamp: now.getTime(), window: 1 });
  if (delta === null) return null;
  const step = Math.floor(now.getTime() / 1000 / PERIOD_SECONDS) + delta;
  return lastStep !== null && step <= lastStep ? null : step;
}

export type TotpStatus = { enabled: boolean; enabledAt: string | null; recoveryCodesLeft: number };

export async function totpStatus(db: DbOrTx, adminId: string): Promise<TotpStatus> {
  const [row] = await db.select({ enabledAt: admins.totpEnabledAt }).from(admins).where(eq(admins.id, adminId));
  const [{ n } = { n: 0 }] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(adminRecoveryCodes)
    .where(and(eq(adminRecoveryCodes.adminId, adminId), isNull(adminRecoveryCodes.usedAt)));
  return { enabled: !!row?.enabledAt, enabledAt: row?.enabledAt?.toISOString() ?? null, recoveryCodesLeft: row?.enabledAt ? n : 0 };
}

/**
 * Starts setup: a fresh secret, sealed with the master key, not yet required at sign-in. The secret
 * and its QR code are answered here alone; a second begin replaces an unconfirmed one.
 */
export async function beginTotp(db: DbOrTx, box: SecretBox, admin: SessionAdmin): Promise<{ secret: string; otpauthUrl: string; qrDataUrl: string }> {
  const secret = new Secret({ size: 20 }).base32;
  const [row] = await db
    .update(admins)
    .set({ totpSecret: box.encrypt(secret), totpLastStep: null })
    .where(and(eq(admins.id, admin.id), isNull(admins.totpEnabledAt)))
    .returning({ id: admins.id });
  if (!row) throw new DomainError('CONFLICT', 'CONFLICT', 'Two-factor sign-in is already on. Turn it off first to set up a new authenticator.');
  const otpauthUrl = totpFor(admin.email, secret).toString();
  return { secret, otpauthUrl, qrDataUrl: await QRCode.toDataURL(otpauthUrl, { margin: 1, width: 200 }) };
}

/**
 * Finishes setup with a code from the authenticator (throttled like a password): from now on
 * sign-in asks for a code. Answers the ten recovery codes this once; only their hashes are kept.
 */
export async function confirmTotp(
  db: DbOrTx,
  box: SecretBox,
  throttle: LoginThrottle,
  admin: SessionAdmin,
  input: { code: string; address: string; now?: Date },
): Promise<{ recoveryCodes: string[] }> {
  const now = input.now ?? new Date();
  const [row] = await db.select({ secret: admins.totpSecret, enabledAt: admins.totpEnabledAt, lastStep: admins.totpLastStep }).from(admins).where(eq(admins.id, admin.id));
  if (!row?.secret || row.enabledAt) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'Start the two-factor setup first.');
  const secret = box.decrypt(row.secret);
  let step: number | null = null;
  const outcome = await throttle.attempt({ scope: 'totp', subject: admin.id, address: input.address }, async () => {
    step = acceptedStep(admin.email, secret, input.code, row.lastStep, now);
    return step !== null;
  });
  if (!outcome.ok) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'That code is not right. Check the time on your phone and enter the current code.', { field: 'code' });
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(admins)
      .set({ totpEnabledAt: now, totpLastStep: step })
      .where(and(eq(admins.id, admin.id), isNull(admins.totpEnabledAt)))
      .returning({ id: admins.id });
    if (!updated) throw new DomainError('CONFLICT', 'CONFLICT', 'Two-factor sign-in was turned on meanwhile.');
    await tx.delete(adminRecoveryCodes).where(eq(adminRecoveryCodes.adminId, admin.id));
    await tx.insert(adminRecoveryCodes).values(codes.map((c) => ({ adminId: admin.id, codeHash: hashRecoveryCode(c) })));
    await audit(tx, { adminId: admin.id, label: admin.email }, { action: 'admin.totp.enable', targetType: 'admin', targetId: admin.id });
  });
  return { recoveryCodes: codes };
}

/** Turns two-factor sign-in off (the caller has checked the password): the secret and recovery codes are deleted. */
export async function disableTotp(db: DbOrTx, admin: SessionAdmin): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx.update(admins).set({ totpSecret: null, totpEnabledAt: null, totpLastStep: null }).where(eq(admins.id, admin.id)).returning({ id: admins.id });
    if (!row) throw new DomainError('NOT_FOUND', 'NOT_FOUND', 'No such admin.');
    await tx.delete(adminRecoveryCodes).where(eq(adminRecoveryCodes.adminId, admin.id));
    await audit(tx, { adminId: admin.id, label: admin.email }, { action: 'admin.totp.disable', targetType: 'admin', targetId: admin.id });
  });
}

/**
 * The second step of a sign-in (the caller has checked the password): a current TOTP code, moving
 * the last accepted step so it is not accepted again, or an unused recovery code, spent by the same
 * statement that finds it so two sign-ins cannot both use it. Returns whether it was accepted.
 */
export async function checkSecondFactor(
  db: DbOrTx,
  box: SecretBox,
  admin: { id: string; email: string; totpSecret: string | null; totpLastStep: number | null },
  code: string,
  now = new Date(),
): Promise<boolean> {
  if (/^\d{6}$/.test(code)) {
    if (!admin.totpSecret) return false;
    const step = acceptedStep(admin.email, box.decrypt(admin.totpSecret), code, admin.totpLastStep, now);
    if (step === null) return false;
    // Conditional on the step still being newer: two sign-ins racing with one code, one wins.
    const [moved] = await db
      .update(admins)
      .set({ totpLastStep: step })
      .where(and(eq(admins.id, admin.id), sql`coalesce(${admins.totpLastStep}, -1) < ${step}`))
      .returning({ id: admins.id });
    return moved !== undefined;
  }
  const [spent] = await db
    .update(adminRecoveryCodes)
    .set({ usedAt: now })
    .where(and(eq(adminRecoveryCodes.adminId, admin.id), eq(adminRecoveryCodes.codeHash, hashRecoveryCode(code)), isNull(adminRecoveryCodes.usedAt)))
    .returning({ id: adminRecoveryCodes.id });
  if (spent) await audit(db, { adminId: admin.id, label: admin.email }, { action: 'admin.totp.recoveryCodeUsed', targetType: 'admin', targetId: admin.id });
  return spent !== undefined;
}
