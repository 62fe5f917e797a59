import { z } from 'zod';
import { adminSchema, changePasswordInputSchema, loginInputSchema } from '../../../shared/auth';
import { changePassword, login, logout } from '../../auth/sessions';
import { DomainError } from '../../errors';
import { userTokenInputSchema, userTokenSchema } from '../../../shared/credits';
import { adminProcedure, apiKeyProcedure, publicProcedure } from '../procedures';
import { router } from '../init';

const meSchema = z.object({ id: z.string(), email: z.string(), role: adminSchema.shape.role });

export const authRouter = router({
  login: publicProcedure
    .input(loginInputSchema)
    .output(meSchema)
    .mutation(async ({ ctx, input }) => {
      const { token, expiresAt, admin } = await login(ctx.db, ctx.deps.throttle, ctx.deps.config.SESSION_TTL_HOURS, {
        ...input,
        address: ctx.address,
        userAgent: ctx.userAgent,
      });
      ctx.cookies.setSession(token, expiresAt);
      return { id: admin.id, email: admin.email, role: admin.role };
    }),

  logout: adminProcedure('analyst')
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx }) => {
      await logout(ctx.db, ctx.admin.sessionId);
      ctx.cookies.clearSession();
      return { ok: true as const };
    }),

  /** Any signed-in admin or analyst changes their own password; their other sessions end. */
  changePassword: adminProcedure('analyst')
    .input(changePasswordInputSchema)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      try {
        await changePassword(ctx.db, ctx.deps.throttle, ctx.admin, { ...input, address: ctx.address });
      } catch (err) {
        // The session was ended for guessing: the browser forgets it too.
        if (err instanceof DomainError && (err.code === 'UNAUTHORIZED' || err.code === 'TOO_MANY_REQUESTS')) ctx.cookies.clearSession();
        throw err;
      }
      return { ok: true as const };
    }),

  me: adminProcedure('analyst')
    .output(meSchema)
    .query(({ ctx }) => ({ id: ctx.admin.id, email: ctx.admin.email, role: ctx.admin.role })),

  /** Mints a short-lived token with which one end user's browser reads that user's own credits. */
  userToken: apiKeyProcedure('users:write')
    .input(userTokenInputSchema)
    .output(userTokenSchema)
    .mutation(({ ctx, input }) => {
      const { token, expiresAt } = ctx.deps.userTokens.mint(input.userId, ctx.deps.config.USER_TOKEN_TTL_SECONDS);
      return { token, expiresAt: expiresAt.toISOString() };
    }),
});
