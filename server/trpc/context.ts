// Loads @fastify/cookie's typing of req.cookies and res.setCookie, so this file type-checks on its own.
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps';
import { SESSION_COOKIE } from '../auth/sessions';
import type { Db } from '../db/client';

/** How a procedure sets or clears the admin session cookie, independent of the HTTP host. */
export type CookieJar = {
  setSession: (token: string, expiresAt: Date) => void;
  clearSession: () => void;
};

export type ContextInner = {
  deps: AppDeps;
  db: Db;
  /** Raw credentials as presented; middlewares resolve them only when a procedure needs them. */
  sessionToken: string | null;
  bearer: string | null;
  address: string;
  userAgent: string | undefined;
  cookies: CookieJar;
};

export const noCookies: CookieJar = { setSession: () => {}, clearSession: () => {} };

/** The transport-free context: tests build it directly and call `createCaller(ctx)`. */
export function createContextInner(deps: AppDeps, opts: Partial<Omit<ContextInner, 'deps' | 'db'>> = {}): ContextInner {
  return {
    deps,
    db: deps.dbHandle.db,
    sessionToken: opts.sessionToken ?? null,
    bearer: opts.bearer ?? null,
    address: opts.address ?? '127.0.0.1',
    userAgent: opts.userAgent,
    cookies: opts.cookies ?? noCookies,
  };
}

/** The Fastify adapter: reads cookie and bearer token from the request. */
export function createFastifyContext(deps: AppDeps) {
  return ({ req, res }: { req: FastifyRequest; res: FastifyReply }): ContextInner => {
    // The scheme name is case-insensitive (RFC 9110): `bearer` and `BEARER` are Bearer too.
    const bearer = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
    return createContextInner(deps, {
      sessionToken: req.cookies[SESSION_COOKIE] ?? null,
      bearer,
      address: req.ip,
      userAgent: req.headers['user-agent'],
      cookies: {
        // Blocks, not arrows returning the reply: a FastifyReply is thenable and nobody should await it here.
        setSession: (token, expiresAt) => {
          res.setCookie(SESSION_COOKIE, token, {
            httpOnly: true,
            sameSite: 'strict',
            secure: deps.config.secureCookies,
            path: '/',
            expires: expiresAt,
          });
        },
        clearSession: () => {
          res.clearCookie(SESSION_COOKIE, { path: '/' });
        },
      },
    });
  };
}
