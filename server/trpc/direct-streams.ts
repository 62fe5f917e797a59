import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TRPCError } from '@trpc/server';
// What tRPC's own SSE producer is built from (the package's internal entry, pinned with it).
import { getErrorShape, getProcedureAtPath, getTRPCErrorFromUnknown, isAbortError, isAsyncIterable, isObject, isTrackedEnvelope, sseHeaders } from '@trpc/server/unstable-core-do-not-import';
import type { ContextInner } from './context';
import type { AppRouter } from './root';

/**
 * The live ledger feed, written here instead of by tRPC's SSE producer. Every charge goes to every
 * unfiltered feed, so what one event costs is multiplied by the open feeds: tRPC's producer
 * serialises each event per stream and sends it through two web TransformStreams (a string
 * transform and a TextEncoderStream) chunk by chunk. Here an event's frame is serialised and encoded
 * ONCE however many feeds send the same batch (the router hands every feed with the same rows the
 * same payload object), and each stream writes that Buffer. The procedure runs unchanged (auth,
 * input schema, the feed's own generator); the bytes on the wire are tRPC's SSE protocol exactly:
 * `connected` with the client options, `data`/`id` for each tracked event, `ping` after
 * `sse.ping.intervalMs` without an event, `return` at the end, `serialized-error` with tRPC's error
 * shape when the generator throws. A request refused before streaming (no session, bad input),
 * or in any shape but a plain GET with `?input=`, goes to tRPC as before.
 */
export const DIRECT_STREAMS: ReadonlySet<string> = new Set(['admin.live.ledger']);

const PREFIX = '/trpc/';

type StreamOptions = {
  router: AppRouter;
  createContext: (opts: { req: FastifyRequest; res: FastifyReply }) => ContextInner;
  /** The adapter's responseMeta headers (vary: Origin when CORS is on), appended as tRPC does. */
  extraVary: string | null;
  onError: (opts: { error: TRPCError; path: string }) => void;
};

/** The path and raw input of a request this module answers, or null to leave it to tRPC. */
function streamRequest(req: FastifyRequest): { path: string; input: unknown } | null {
  if (req.method !== 'GET' || !req.url.startsWith(PREFIX)) return null;
  const q = req.url.indexOf('?');
  const path = req.url.slice(PREFIX.length, q < 0 ? undefined : q);
  if (!DIRECT_STREAMS.has(path)) return null;
  const params = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1));
  // tRPC also reads a resume id from ?lastEventId= and ?Last-Event-Id=, and batches: left to it.
  for (const key of params.keys()) if (key !== 'input') return null;
  const raw = params.get('input');
  let input: unknown;
  try {
    input = raw === null ? undefined : JSON.parse(raw);
  } catch {
    return null;
  }
  // As tRPC does for a subscription: the browser's Last-Event-ID header joins the input.
  const lastEventId = req.headers['last-event-id'];
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    if (isObject(input)) input = { ...input, lastEventId };
    else input ??= { lastEventId };
  }
  return { path, input };
}

/** Encoded frames by payload object: the feeds of one tick share one Buffer per distinct batch. */
const frames = new WeakMap<object, { id: string; frame: Buffer }>();
const encoded = { count: 0 };
/** Event frames serialised so far in this process (tests read it: one per distinct batch, not per feed). */
export const directStreamFramesEncoded = () => encoded.count;

function dataFrame(id: string, data: unknown): Buffer {
  const shared = typeof data === 'object' && data !== null;
  const cached = shared ? frames.get(data) : undefined;
  if (cached?.id === id) return cached.frame;
  encoded.count += 1;
  const frame = Buffer.from(`data: ${JSON.stringify(data)}\nid: ${id}\n\n\n`);
  if (shared) frames.set(data, { id, frame });
  return frame;
}

const eventFrame = (event: string, data: string) => Buffer.from(`event: ${event}\ndata: ${data}\n\n\n`);

const answered = new WeakMap<FastifyInstance, { count: number }>();
/** How many streams an app answered here rather than through tRPC (tests read it). */
export const directStreamsAnswered = (app: FastifyInstance) => answered.get(app)?.count ?? 0;

export function registerDirectStreams(app: FastifyInstance, opts: StreamOptions) {
  const stats = { count: 0 };
  answered.set(app, stats);
  const config = opts.router._def._config;
  const sse = config.sse ?? {};
  const pingMs = sse.ping?.enabled ? (sse.ping.intervalMs ?? 1_000) : 0;
  const connected = eventFrame('connected', JSON.stringify(sse.client ?? {}));
  const vary = opts.extraVary ? `trpc-accept, accept, ${opts.extraVary}` : 'trpc-accept, accept';
  // Events are written as they are yielded; the first ones must not wait on a serializer config.
  if (config.transformer.output.serialize('x') !== 'x') throw new Error('direct streams assume no transformer');

  app.addHook('preHandler', async (req, reply) => {
    const request = streamRequest(req);
    if (!request) return;
    const { path, input } = request;
    const procedure = await getProcedureAtPath(opts.router, path);
    if (procedure?._def.type !== 'subscription') return;
    const ctx = opts.createContext({ req, res: reply });
    const abort = new AbortController();
    let iterable: AsyncIterable<unknown>;
    try {
      const data: unknown = await procedure({ path, getRawInput: async () => input, ctx, type: 'subscription', signal: abort.signal, batchIndex: 0 });
      if (!isAsyncIterable(data)) return;
      iterable = data;
    } catch {
      // Refused before it streams (sign-in, role, input): tRPC answers it, and logs it, as always.
      return;
    }
    stats.count += 1;
    // Written on the raw response: Fastify ends a hook's reply only once its payload has ended, so a
    // streamed reply.send() would also run tRPC's handler. The headers set so far (helmet, CORS) go
    // out with the SSE ones, as Fastify would send them; onSend/onResponse hooks do not run for it.
    reply.hijack();
    const res = reply.raw;
    const headers: Record<string, string | number | string[]> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
    headers.vary = vary;
    for (const [name, value] of Object.entries(sseHeaders)) headers[name.toLowerCase()] = value;
    res.writeHead(200, headers);
    // The response's close: the browser went away (or the server is shutting down).
    res.once('close', () => abort.abort());
    res.write(connected);
    void pump(iterable, res, abort.signal, pingMs, (cause) => {
      const error = getTRPCErrorFromUnknown(cause);
      opts.onError({ error, path });
      return JSON.stringify(getErrorShape({ config, ctx, error, input, path, type: 'subscription' }));
    });
  });
}

/**
 * Sends each yielded event, a ping after `pingMs` without one, then `return` or `serialized-error`,
 * and ends. A client that reads slowly is waited for (its socket buffer drained) before the next
 * event is taken, as tRPC's pull-based stream does: meanwhile the feed's bounded queue overflows
 * and the feed catches up from the database, so a slow browser never grows the server's memory.
 */
async function pump(iterable: AsyncIterable<unknown>, out: ServerResponse, signal: AbortSignal, pingMs: number, errorData: (cause: unknown) => string) {
  const iterator = iterable[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | null = null;
  const armPing = () => {
    if (!pingMs) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(function ping() {
      out.write(eventFrame('ping', ''));
      timer = setTimeout(ping, pingMs);
    }, pingMs);
  };
  const stop = () => void iterator.return?.();
  signal.addEventListener('abort', stop, { once: true });
  try {
    armPing();
    for (;;) {
      const step = await iterator.next();
      if (step.done) break;
      const value = step.value;
      // The ledger feed yields tracked events only; an untracked one is written as tRPC writes it for
      // a stream that has no event id yet.
      const flushed = isTrackedEnvelope(value) ? out.write(dataFrame(String(value[0]), value[1])) : out.write(Buffer.from(`data: ${JSON.stringify(value)}\n\n\n`));
      armPing();
      if (!flushed && !signal.aborted) await Promise.race([once(out, 'drain'), once(out, 'close')]);
    }
    if (!signal.aborted) out.write(eventFrame('return', ''));
  } catch (cause) {
    if (!signal.aborted && !isAbortError(cause)) out.write(eventFrame('serialized-error', errorData(cause)));
  } finally {
    if (timer) clearTimeout(timer);
    signal.removeEventListener('abort', stop);
    out.end();
  }
}
