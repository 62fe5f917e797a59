import { z } from 'zod';
import { adminRoleSchema, apiKeyScopeSchema } from './enums';
import { emailSchema, pageInputSchema } from './common';

export const loginInputSchema = z.object({
  email: emailSchema,
  password: z.string().min(1, 'password is required').max(512),
});

export const adminSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: adminRoleSchema,
  createdAt: z.string(),
  disabledAt: z.string().nullable(),
});
export type AdminView = z.infer<typeof adminSchema>;

export const passwordSchema = z.string().min(12, 'password must be at least 12 characters').max(256);

export const createAdminInputSchema = z.object({
  email: emailSchema,
  role: adminRoleSchema,
  password: passwordSchema,
});

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
});
export type ApiKeyView = z.infer<typeof apiKeySchema>;

export const createApiKeyInputSchema = z.object({
  name: z.string().trim().min(1, 'name is required').max(100),
  scopes: z.array(apiKeyScopeSchema).min(1, 'choose at least one scope'),
});

export const createdApiKeySchema = z.object({ apiKey: apiKeySchema, secret: z.string() });

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
