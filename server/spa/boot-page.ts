import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { TRPCError } from '@trpc/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { BOOT_ELEMENT_ID, type BootData } from '../../shared/boot';
import { SESSION_COOKIE } from '../auth/sessions';
import type { ContextInner } from '../trpc/context';
import { createCallerFactory } from '../trpc/init';
import { appRouter } from '../trpc/root';

const createCaller = createCallerFactory(appRouter);

/** The page's own preload of auth.me: the anonymous page keeps it; a signed-in one carries the answer instead. */
const ME_PRELOAD = /[ \t]*<!--(?:(?!-->)[\s\S])*?auth\.me(?:(?!-->)[\s\S])*?-->\s*|[ \t]*<link rel="preload" href="\/trpc\/auth\.me"[^>]*>\s*/g;

/**
 * JSON inside a `<script>` element: `<` escaped so no value can close the element or open a
 * comment (`</script>`, `<!--`), and the two line separators older parsers treated as newlines.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export type BootTemplate = {
  /** The page as built, for a visitor who is not signed in. */
  anonymous: string;
  /** The signed-in page up to where the boot data goes (without the auth.me preload). */
  head: string;
  /** Closes the signed-in page with `data`. */
  tail: (data: BootData) => string;
};

export function bootTemplate(html: string): BootTemplate {
  const signedIn = html.replace(ME_PRELOAD, '');
  const at = signedIn.lastIndexOf('</body>');
  const head = at < 0 ? signedIn : signedIn.slice(0, at);
  const end = at < 0 ? '' : signedIn.slice(at);
  return { anonymous: html, head, tail: (data) => `<script type="application/json" id="${BOOT_ELEMENT_ID}">${scriptJson(data)}</script>${end}` };
}

type PageOptions = {
  staticRoot: string;
  createContext: (opts: { req: FastifyRequest; res: FastifyReply }) => ContextInner;
  log: Logger;
  /**
   * How long the page waits for the dashboard's figures before it is sent without them (the app then
   * asks for them itself): the app's scripts cannot run before the page has ended.
   */
  figuresWaitMs: number;
};

/** A refusal (no session, a role or a password change) means the data is not the visitor's: leave it out. */
function withoutRefusal(log: Logger, what: string) {
  return (err: unknown): undefined => {
    if (!(err instanceof TRPCError) || err.code === 'INTERNAL_SERVER_ERROR') log.warn({ err, what }, 'boot page: left out, the app asks for it itself');
    return undefined;
  };
}

function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * The SPA's page (`/` and every client-side route). For a signed-in admin it carries auth.me's
 * answer and, on `/`, the dashboard's figures: on a cold load they were the critical path (the
 * scripts run, auth.me answers, then the figures' query goes out, 0.1-0.2 s later). The page's
 * head goes out at once, so the browser fetches the scripts while the figures are read. Never
 * cached (it is one admin's), and it varies with the cookie.
 */
export function registerBootPage(app: FastifyInstance, opts: PageOptions): { send: (req: FastifyRequest, reply: FastifyReply) => FastifyReply } {
  const template = bootTemplate(readFileSync(path.join(opts.staticRoot, 'index.html'), 'utf8'));

  const send = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('vary', 'Cookie');
    if (!req.cookies[SESSION_COOKIE]) return reply.send(template.anonymous);
    const caller = createCaller(opts.createContext({ req, res: reply }));
    const body = new PassThrough();
    void (async () => {
      const me = await caller.auth.me().catch(withoutRefusal(opts.log, 'auth.me'));
      if (!me) return body.end(template.anonymous);
      body.write(template.head);
      const onDashboard = req.url === '/' || req.url.startsWith('/?');
      const dashboard = onDashboard && !me.mustChangePassword ? await withinMs(caller.admin.dashboard().catch(withoutRefusal(opts.log, 'admin.dashboard')), opts.figuresWaitMs) : undefined;
      body.end(template.tail(dashboard ? { me, dashboard } : { me }));
    })().catch((err: unknown) => body.destroy(err instanceof Error ? err : new Error(String(err))));
    return reply.send(body);
  };
  app.get('/', send);
  return { send };
}
