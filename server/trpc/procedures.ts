import { TRPCError } from '@trpc/server';
import type { AdminRole, ApiKeyScope } from '../../shared/enums';
import { authenticateApiKey } from '../auth/api-keys';
import type { Actor } from '../auth/audit';
import { resolveSession } from '../auth/sessions';
import { domainErrors, t } from './init';

export const publicProcedure = t.procedure.use(domainErrors);

/**
 * An admin session with at least `role`: 'analyst' admits analysts and admins (read-only work),
 * 'admin' admits admins alone. Narrows ctx.admin and gives ctx.actor for the audit log.
 */
export const adminProcedure = (role: AdminRole) =>
  publicProcedure.use(async ({ ctx, next }) => {
    const admin = ctx.sessionToken ? await resolveSession(ctx.db, ctx.sessionToken) : null;
    if (!admin) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' });
    if (role === 'admin' && admin.role !== 'admin') {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'This action needs the admin role; analysts have read-only access.' });
    }
    const actor: Actor = { adminId: admin.id, label: admin.email };
    return next({ ctx: { admin, actor } });
  });

/** A product app's API key holding `scope`. Narrows ctx.apiKey. */
export const apiKeyProcedure = (scope: ApiKeyScope) =>
  publicProcedure.use(async ({ ctx, next }) => {
    const apiKey = ctx.bearer ? await authenticateApiKey(ctx.db, ctx.bearer) : null;
    if (!apiKey) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'A valid API key is required (Authorization: Bearer <key>).' });
    if (!apiKey.scopes.includes(scope)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: `This API key lacks the ${scope} scope.` });
    }
    return next({ ctx: { apiKey } });
  });
