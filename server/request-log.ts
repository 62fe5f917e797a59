import type { FastifyInstance } from 'fastify';

/** A request slower than this is worth a warning (the back office polls; most calls take a few ms). */
export const SLOW_REQUEST_MS = 1_000;

/**
 * One line per request only when it matters: server errors at error, slow requests at warn, the
 * rest at debug (Fastify's own two info lines per request would drown everything else in a
 * terminal: the SPA polls several endpoints every few seconds).
 */
export function registerRequestLog(app: FastifyInstance) {
  app.addHook('onResponse', async (request, reply) => {
    const ms = Math.round(reply.elapsedTime);
    const line = { method: request.method, url: request.url.split('?')[0], status: reply.statusCode, ms };
    // A live stream (admin.live.*, server-sent events) is open for as long as its page is: never slow.
    const stream = request.url.startsWith('/trpc/admin.live.');
    if (reply.statusCode >= 500) request.log.error(line, 'request failed');
    else if (ms >= SLOW_REQUEST_MS && !stream) request.log.warn(line, 'slow request');
    else request.log.debug(line, 'request');
  });
}
