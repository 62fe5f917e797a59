import { z } from 'zod';

export const tiers = ['free', 'plus', 'pro'] as const;
export const tierSchema = z.enum(tiers);
export type Tier = z.infer<typeof tierSchema>;

export const apiKeyScopes = ['credits:read', 'credits:write', 'enhance', 'users:write'] as const;
export const apiKeyScopeSchema = z.enum(apiKeyScopes);
export type ApiKeyScope = z.infer<typeof apiKeyScopeSchema>;

export const adminRoles = ['admin', 'analyst'] as const;
export const adminRoleSchema = z.enum(adminRoles);
export type AdminRole = z.infer<typeof adminRoleSchema>;

/** Stable machine-readable refusal reasons carried in a tRPC error's `data.reason`. */
export const errorReasons = [
  'INSUFFICIENT_CREDITS',
  'PLATFORM_CREDITS_DEPLETED',
  'OVERFLOW_LIMIT_REACHED',
  'PROVIDER_INACTIVE',
  'IDEMPOTENCY_CONFLICT',
  'RESERVATION_EXPIRED',
  'RESERVATION_NOT_PENDING',
  'UNKNOWN_USER',
  'UNKNOWN_RESERVATION',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'BAD_REQUEST',
  'NOT_FOUND',
  'CONFLICT',
  'TOO_MANY_REQUESTS',
  /** Signed in with a generated password: only auth.changePassword (and auth.me, auth.logout) work. */
  'PASSWORD_CHANGE_REQUIRED',
  /** The password was right and the admin has two-factor sign-in: send auth.login again with `code`. */
  'SECOND_FACTOR_REQUIRED',
] as const;
export type ErrorReason = (typeof errorReasons)[number];
