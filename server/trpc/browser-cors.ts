import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * The procedures an end user's browser may call from a product's own origin: the reads a user
 * token authorises (userReadProcedure). Admin procedures are never among them: they use the
 * SameSite session cookie and must stay same-origin; API-key procedures belong on servers.
 */
export const BROWSER_PROCEDURES: ReadonlySet<string> = new Set(['credits.balance', 'credits.history', 'users.notifications', 'users.notifications.markRead']);

/** The procedures a /trpc URL names (one, or a comma-separated batch), or null for any other URL. */
export function trpcPathsOf(url: string): string[] | null {
  const { pathname } = new URL(url, 'http://localhost');
  if (!pathname.startsWith('/trpc/')) return null;
  let path = pathname.slice('/trpc/'.length);
  try {
    path = decodeURIComponent(path);
  } catch {
    return null;
  }
  return path.split(',').map((p) => p.trim());
}

const browserCallable = (req: FastifyRequest) => {
  const paths = trpcPathsOf(req.url);
  return paths !== null && paths.length > 0 && paths.every((p) => BROWSER_PROCEDURES.has(p));
};

/**
 * CORS for `origins` on the browser procedures alone: the exact origin is echoed, the preflight
 * allows Authorization and Content-Type, and no cookie is ever sent along (credentials off). Any
 * other origin, or any other URL, gets no Access-Control-* header at all (its preflight fails).
 */
export async function registerBrowserCors(app: FastifyInstance, origins: readonly string[]) {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  const refuse: FastifyCorsOptions = { origin: false };
  const allow = (origin: string): FastifyCorsOptions => ({
    origin,
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    credentials: false,
    maxAge: 600,
  });
  await app.register(fastifyCors, {
    delegator: (req, cb) => {
      const origin = req.headers.origin;
      cb(null, origin !== undefined && allowed.has(origin) && browserCallable(req) ? allow(origin) : refuse);
    },
  });
}

/**
 * tRPC's responseMeta: with CORS on, every /trpc answer depends on Origin too, so a shared cache
 * never hands one origin's answer (with its Allow-Origin) to another. tRPC writes its own Vary
 * after the hooks, replacing the plugin's, hence here; it appends to tRPC's `trpc-accept, accept`.
 */
export const varyOnOrigin = () => ({ headers: new Headers([['vary', 'Origin']]) });
