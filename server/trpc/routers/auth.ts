import { z } from 'zod';
import { changePasswordInputSchema, loginInputSchema, meSchema, sessionViewSchema, totpCodeInputSchema, totpDisableInputSchema, totpSetupSchema, totpStatusSchema } from '../../../shared/auth';
import type { SessionAdmin } from '../../auth/session-admin';
import { changePassword, checkOwnPassword, listSessions, login, logout, revokeSession } from '../../auth/sessions';
import { beginTotp, confirmTotp, disableTotp, totpStatus } from '../../auth/totp';
import { DomainError } from '../../errors';
import { userTokenInputSchema, userTokenSchema } from '../../../shared/credits';
import { adminProcedure, apiKeyProcedure, publicProcedure } from '../procedures';
import { router } from '../init';
import type { CookieJar } from '../context';

const ok = z.object({ ok: z.literal(true) });
const toMe = (a: SessionAdmin) => ({ id: a.id, email: a.email, role: a.role, mustChangePassword: a.mustChangePassword });

/** Runs a check of the admin's own password; a session ended for guessing is forgotten by the browser too. */
async function clearingEndedSession<T>(cookies: CookieJar, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof DomainError && (err.code === 'UNAUTHORIZED' || err.code === 'TOO_MANY_REQUESTS')) cookies.clearSession();
    throw err;
  }
}

/** The signed-in admin's own sessions: any admin or analyst, each seeing only theirs. */
const sessionsRouter = router({
  list: adminProcedure('analyst')
    .output(z.array(sessionViewSchema))
    .query(({ ctx }) => listSessions(ctx.db, ctx.admin)),
  revoke: adminProcedure('analyst')
    .input(z.object({ id: z.string().uuid() }))
    .output(z.object({ ok: z.literal(true), current: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const { current } = await revokeSession(ctx.db, ctx.admin, input.id);
      if (current) ctx.cookies.clearSession();
      return { ok: true as const, current };
    }),
});

/** Optional two-factor sign-in with an authenticator app, per admin or analyst. */
const totpRouter = router({
  status: adminProcedure('analyst')
    .output(totpStatusSchema)
    .query(({ ctx }) => totpStatus(ctx.db, ctx.admin.id)),
  begin: adminProcedure('analyst')
    .output(totpSetupSchema)
    .mutation(({ ctx }) => beginTotp(ctx.db, ctx.deps.secrets, ctx.admin)),
  confirm: adminProcedure('analyst')
    .input(totpCodeInputSchema)
    .output(z.object({ recoveryCodes: z.array(z.string()) }))
    .mutation(({ ctx, input }) => confirmTotp(ctx.db, ctx.deps.secrets, ctx.deps.throttle, ctx.admin, { code: input.code, address: ctx.address })),
  /** Needs the password: a session left open must not be enough to take the second factor away. */
  disable: adminProcedure('analyst')
    .input(totpDisableInputSchema)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      await clearingEndedSession(ctx.cookies, () => checkOwnPassword(ctx.db, ctx.deps.throttle, ctx.admin, { password: input.password, address: ctx.address, field: 'password' }));
      await disableTotp(ctx.db, ctx.admin);
      return { ok: true as const };
    }),
});

export const authRouter = router({
  login: publicProcedure
    .input(loginInputSchema)
    .output(meSchema)
    .mutation(async ({ ctx, input }) => {
      const { token, expiresAt, admin } = await login(ctx.db, ctx.deps.throttle, ctx.deps.config.SESSION_TTL_HOURS, { ...input, address: ctx.address, userAgent: ctx.userAgent }, ctx.deps.secrets);
      ctx.cookies.setSession(token, expiresAt);
      return toMe(admin);
    }),

  logout: adminProcedure('analyst', { duringPasswordChange: true })
    .output(ok)
    .mutation(async ({ ctx }) => {
      await logout(ctx.db, ctx.admin.sessionId);
      ctx.cookies.clearSession();
      return { ok: true as const };
    }),

  /** Any signed-in admin or analyst changes their own password; their other sessions end. */
  changePassword: adminProcedure('analyst', { duringPasswordChange: true })
    .input(changePasswordInputSchema)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      await clearingEndedSession(ctx.cookies, () => changePassword(ctx.db, ctx.deps.throttle, ctx.admin, { ...input, address: ctx.address }));
      return { ok: true as const };
    }),

  me: adminProcedure('analyst', { duringPasswordChange: true })
    .output(meSchema)
    .query(({ ctx }) => toMe(ctx.admin)),

  sessions: sessionsRouter,
  totp: totpRouter,

  /** Mints a short-lived token with which one end user's browser reads that user's own credits. */
  userToken: apiKeyProcedure('users:write')
    .meta({
      openapi: {
        summary: 'Mint a short-lived token with which one user’s browser reads that user’s own credits',
        example: { userId: 'user_42' },
      },
    })
    .input(userTokenInputSchema)
    .output(userTokenSchema)
    .mutation(({ ctx, input }) => {
      const { token, expiresAt } = ctx.deps.userTokens.mint(input.userId, ctx.deps.config.USER_TOKEN_TTL_SECONDS);
      return { token, expiresAt: expiresAt.toISOString() };
    }),
});
