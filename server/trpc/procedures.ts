import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { userIdSchema } from '../../shared/common';
import type { AdminRole, ApiKeyScope } from '../../shared/enums';
import { UNKNOWN_KEY, type AuthenticatedKey } from '../auth/api-keys';
import { DomainError } from '../errors';
import type { Actor } from '../auth/audit';
import { resolveSession } from '../auth/sessions';
import { callBoundary, t } from './init';

export const publicProcedure = t.procedure.use(callBoundary);

/**
 * Which bearer credential a procedure's middleware accepts, recorded against the middleware itself
 * so the OpenAPI document (server/openapi/) can state each procedure's security without a second list.
 */
export type Credential = { apiKeyScope: ApiKeyScope; userToken: boolean };
export const credentialOf = new WeakMap<object, Credential>();
const accepting = <F extends object>(credential: Credential, middleware: F): F => {
  credentialOf.set(middleware, credential);
  return middleware;
};

/**
 * An admin session with at least `role`: 'analyst' admits analysts and admins (read-only work),
 * 'admin' admits admins alone. Narrows ctx.admin and gives ctx.actor for the audit log. A session
 * whose password must still be changed is refused (PASSWORD_CHANGE_REQUIRED) unless the procedure
 * is one of the few it may use (`duringPasswordChange`: auth.me, auth.logout, auth.changePassword).
 */
export const adminProcedure = (role: AdminRole, opts: { duringPasswordChange?: boolean } = {}) =>
  publicProcedure.use(async ({ ctx, next }) => {
    const admin = ctx.sessionToken ? await resolveSession(ctx.db, ctx.sessionToken) : null;
    if (!admin) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' });
    if (admin.mustChangePassword && !opts.duringPasswordChange) {
      throw new DomainError('FORBIDDEN', 'PASSWORD_CHANGE_REQUIRED', 'Your password was generated for you: choose your own password before doing anything else.');
    }
    if (role === 'admin' && admin.role !== 'admin') {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'This action needs the admin role; analysts have read-only access.' });
    }
    const actor: Actor = { adminId: admin.id, label: admin.email };
    return next({ ctx: { admin, actor } });
  });

/** A product app's API key holding `scope`. Narrows ctx.apiKey. */
export const apiKeyProcedure = (scope: ApiKeyScope) =>
  publicProcedure.use(
    accepting({ apiKeyScope: scope, userToken: false }, async ({ ctx, next }) => {
      if (!ctx.bearer) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'A valid API key is required (Authorization: Bearer <key>).' });
      const check = await ctx.deps.apiKeys.check(ctx.bearer, scope);
      if (!check.ok) throw new TRPCError({ code: 'UNAUTHORIZED', message: check.message });
      const apiKey = check.key;
      if (!apiKey.scopes.includes(scope)) {
        throw new TRPCError({ code: 'FORBIDDEN', message: `This API key lacks the ${scope} scope.` });
      }
      return next({ ctx: { apiKey } });
    }),
  );

/** Who reads through userReadProcedure: typed as the union, so procedures can tell the two apart. */
export type Reader = { kind: 'user'; userId: string } | { kind: 'apiKey'; apiKey: AuthenticatedKey };

/**
 * Reads of one user's credits: an API key with credits:read, or that user's own short-lived token
 * (the row-level rule: a user token never reads another user).
 */
export const userReadProcedure = publicProcedure.input(z.object({ userId: userIdSchema })).use(
  accepting({ apiKeyScope: 'credits:read', userToken: true }, async ({ ctx, input, next }) => {
    const bearer = ctx.bearer;
    if (!bearer) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'An API key or a user token is required.' });
    const tokenUser = ctx.deps.userTokens.verify(bearer);
    if (tokenUser !== null) {
      if (tokenUser !== input.userId) throw new TRPCError({ code: 'FORBIDDEN', message: 'A user token reads only its own user.' });
      return next({ ctx: { reader: { kind: 'user', userId: tokenUser } as Reader } });
    }
    const check = await ctx.deps.apiKeys.check(bearer, 'credits:read');
    if (!check.ok) throw new TRPCError({ code: 'UNAUTHORIZED', message: check.message === UNKNOWN_KEY ? 'The API key or user token is invalid, revoked or expired.' : check.message });
    const apiKey = check.key;
    if (!apiKey.scopes.includes('credits:read')) throw new TRPCError({ code: 'FORBIDDEN', message: 'This API key lacks the credits:read scope.' });
    return next({ ctx: { reader: { kind: 'apiKey', apiKey } as Reader } });
  }),
);
