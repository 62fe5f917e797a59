import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TRPCError } from '@trpc/server';
import { getHTTPStatusCode } from '@trpc/server/http';
// What tRPC's own adapters build their answers with (the package's internal entry, pinned with it).
import { getErrorShape, getProcedureAtPath, getTRPCErrorFromUnknown, transformTRPCResponse } from '@trpc/server/unstable-core-do-not-import';
import type { ContextInner } from './context';
import type { AppRouter } from './root';

/**
 * The calls product apps make on every enhancement. Sent one at a time (no batch), they are
 * answered here instead of by tRPC's Fastify adapter, which turns each request into a Fetch
 * Request (undici Request, AbortControllers, a web stream, the body re-serialised and parsed
 * again) and its answer into a Fetch Response: a sixth of the server's CPU per consume in the
 * profile in bench/README.md. The procedure itself runs unchanged — the same middlewares (auth,
 * domain errors, the change bus), input and output schemas — and its answer is written as tRPC
 * writes it: the same status, `vary` and content type, and byte for byte the same JSON for a
 * result and for an error (tRPC's own error shape, through the app's errorFormatter); only the
 * framing differs: a content-length where tRPC streams its Response chunked. Anything
 * else about the request (a batch, a query string, another content type, streaming, a body that
 * is not JSON) goes to tRPC as before.
 */
export const DIRECT_CALLS: ReadonlySet<string> = new Set(['credits.consume', 'credits.reserve', 'credits.capture', 'credits.release', 'enhance.run', 'enhance.submit']);

const PREFIX = '/trpc/';

type DirectOptions = {
  router: AppRouter;
  createContext: (opts: { req: FastifyRequest; res: FastifyReply }) => ContextInner;
  /** The adapter's responseMeta headers (vary: Origin when CORS is on), appended as tRPC does. */
  extraVary: string | null;
  onError: (opts: { error: TRPCError; path: string }) => void;
};

/** The procedure a request may be answered for directly, or null to leave it to tRPC. */
function directPath(req: FastifyRequest): string | null {
  if (req.method !== 'POST' || !req.url.startsWith(PREFIX)) return null;
  const path = req.url.slice(PREFIX.length);
  if (!DIRECT_CALLS.has(path)) return null;
  const type = req.headers['content-type'];
  if (type !== 'application/json' && !type?.startsWith('application/json;')) return null;
  // tRPC's streaming responses (jsonl) and its refusals of them stay tRPC's.
  if (req.headers['trpc-accept'] !== undefined || req.headers.accept?.includes('application/jsonl')) return null;
  return path;
}

const answered = new WeakMap<FastifyInstance, { count: number }>();
/** How many calls an app answered here rather than through tRPC (tests read it). */
export const directCallsAnswered = (app: FastifyInstance) => answered.get(app)?.count ?? 0;

export function registerDirectCalls(app: FastifyInstance, opts: DirectOptions) {
  const stats = { count: 0 };
  answered.set(app, stats);
  const config = opts.router._def._config;
  const vary = opts.extraVary ? `trpc-accept, accept, ${opts.extraVary}` : 'trpc-accept, accept';
  // preHandler: every onRequest hook (helmet, CORS, guards) has run and the body is read, as tRPC's
  // plugin parses it (a string); answering here ends the request before tRPC's handler.
  app.addHook('preHandler', async (req, reply) => {
    const path = directPath(req);
    if (!path || typeof req.body !== 'string' || req.body === '') return;
    let input: unknown;
    try {
      input = JSON.parse(req.body);
    } catch {
      return; // tRPC answers a body that is not JSON with its own parse error.
    }
    const ctx = opts.createContext({ req, res: reply });
    let body: unknown;
    try {
      const procedure = await getProcedureAtPath(opts.router, path);
      if (procedure?._def.type !== 'mutation') return;
      const data: unknown = await procedure({ path, getRawInput: async () => input, ctx, type: 'mutation', signal: undefined, batchIndex: 0 });
      body = { result: { data } };
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      opts.onError({ error, path });
      body = { error: getErrorShape({ config, ctx, error, input, path, type: 'mutation' }) };
    }
    stats.count += 1;
    const status = getHTTPStatusCode(body as Parameters<typeof getHTTPStatusCode>[0]);
    const text = JSON.stringify(transformTRPCResponse(config, body as Parameters<typeof transformTRPCResponse>[1]));
    // A Buffer, so Fastify sends the content type as tRPC does (no charset added to it).
    return reply.code(status).header('vary', vary).header('content-type', 'application/json').send(Buffer.from(text));
  });
}
