import { z } from 'zod';
import { adminRoleSchema, apiKeyScopeSchema } from './enums';
import { emailSchema, pageInputSchema } from './common';

export const loginInputSchema = z.object({
  email: emailSchema,
  password: z.string().min(1, 'password is required').max(512),
  /** The second factor, when the admin has one: a 6-digit TOTP code or a recovery code. */
  code: z.string().trim().min(1, 'enter the code').max(64).optional(),
});

export const meSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: adminRoleSchema,
  /** True after sign-in with a generated password: nothing but auth.changePassword works until then. */
  mustChangePassword: z.boolean(),
});
export type MeView = z.infer<typeof meSchema>;

export const adminSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: adminRoleSchema,
  createdAt: z.string(),
  disabledAt: z.string().nullable(),
  mustChangePassword: z.boolean(),
  totpEnabled: z.boolean(),
});
export type AdminView = z.infer<typeof adminSchema>;

export const passwordSchema = z.string().min(12, 'password must be at least 12 characters').max(256);

export const createAdminInputSchema = z.object({
  email: emailSchema,
  role: adminRoleSchema,
  /** Omitted: a password is generated, answered once, and must be changed at first sign-in. */
  password: passwordSchema.optional(),
  /** With a given password: ask them to replace it at first sign-in too. */
  mustChangePassword: z.boolean().optional(),
});

export const createdAdminSchema = adminSchema.extend({ generatedPassword: z.string().nullable() });

export const updateAdminInputSchema = z.object({
  id: z.string().uuid(),
  role: adminRoleSchema.optional(),
  disabled: z.boolean().optional(),
});

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(apiKeyScopeSchema),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  rotatedAt: z.string().nullable(),
  /** The replaced secret's prefix while its grace period runs, else null. */
  previousPrefix: z.string().nullable(),
  previousExpiresAt: z.string().nullable(),
});
export type ApiKeyView = z.infer<typeof apiKeySchema>;

export const createApiKeyInputSchema = z.object({
  name: z.string().trim().min(1, 'name is required').max(100),
  scopes: z.array(apiKeyScopeSchema).min(1, 'choose at least one scope'),
  /** When the key stops working; omitted or null never. */
  expiresAt: z.iso.datetime({ offset: true, message: 'choose a date and time' }).nullable().optional(),
});

/** A key's name and scopes change in place; its secret stays. A narrowed scope applies to the very next call. */
export const updateApiKeyInputSchema = z.object({
  id: z.string().uuid(),
  name: z.string().trim().min(1, 'name is required').max(100),
  scopes: z.array(apiKeyScopeSchema).min(1, 'choose at least one scope'),
});

export const createdApiKeySchema = z.object({ apiKey: apiKeySchema, secret: z.string() });

/** The longest the old secret may keep working after a rotation: 30 days. */
export const MAX_ROTATION_GRACE_MINUTES = 30 * 24 * 60;

export const rotateApiKeyInputSchema = z.object({
  id: z.string().uuid(),
  graceMinutes: z.number().int('whole minutes').min(0, 'the grace period cannot be negative').max(MAX_ROTATION_GRACE_MINUTES, 'the grace period is at most 30 days'),
});

export const apiKeyUsageSchema = z.object({
  apiKeyId: z.string(),
  /** The last 30 UTC days, oldest first, days without calls included as 0. */
  days: z.array(z.object({ day: z.string(), calls: z.number().int() })),
  total: z.number().int(),
});
export type ApiKeyUsageView = z.infer<typeof apiKeyUsageSchema>;

export const sessionViewSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  current: z.boolean(),
});
export type SessionView = z.infer<typeof sessionViewSchema>;

export const totpStatusSchema = z.object({
  enabled: z.boolean(),
  enabledAt: z.string().nullable(),
  recoveryCodesLeft: z.number().int(),
});

export const totpSetupSchema = z.object({
  /** Base32, for typing into an authenticator by hand; shown during setup only. */
  secret: z.string(),
  otpauthUrl: z.string(),
  qrDataUrl: z.string(),
});

export const totpCodeInputSchema = z.object({
  code: z
    .string()
    .trim()
    .regex(/^\d{6}$/, 'enter the 6-digit code from your authenticator app'),
});

export const totpDisableInputSchema = z.object({ password: z.string().min(1, 'enter your password').max(512) });

export const auditListInputSchema = pageInputSchema.extend({
  action: z.string().max(100).optional(),
});

export const auditEntrySchema = z.object({
  id: z.string(),
  actor: z.string().nullable(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  reason: z.string().nullable(),
  createdAt: z.string(),
});

export const changePasswordInputSchema = z
  .object({
    currentPassword: z.string().min(1, 'currentPassword is required').max(512),
    newPassword: passwordSchema,
  })
  .refine((v) => v.newPassword !== v.currentPassword, { message: 'the new password must differ from the current one', path: ['newPassword'] });
