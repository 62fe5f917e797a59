import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

type Refusal = { httpStatus: number; code: string; jsonRpc: number };

const refusals: Record<number, Refusal> = {
  400: { httpStatus: 400, code: 'BAD_REQUEST', jsonRpc: -32600 },
  404: { httpStatus: 404, code: 'NOT_FOUND', jsonRpc: -32004 },
  405: { httpStatus: 405, code: 'METHOD_NOT_SUPPORTED', jsonRpc: -32005 },
  413: { httpStatus: 413, code: 'PAYLOAD_TOO_LARGE', jsonRpc: -32013 },
  415: { httpStatus: 415, code: 'UNSUPPORTED_MEDIA_TYPE', jsonRpc: -32015 },
  431: { httpStatus: 431, code: 'BAD_REQUEST', jsonRpc: -32600 },
};

/**
 * The longest /trpc URL served (what Node's default 16 KB header limit let through before). Node
 * itself parses up to MAX_HEADER_BYTES, so a longer URL up to there is read whole and refused here,
 * keeping the connection and the requests pipelined behind it; only past that does Node's parser
 * give up and the connection close (trpcClientErrorHandler).
 */
export const MAX_TRPC_URL_LENGTH = 16_384;
export const MAX_HEADER_BYTES = 65_536;
const TOO_LONG = 'The request URL or headers are too large: send the input as a POST body, or fewer calls per batch.';

/** A refusal in the same shape as tRPC's own errors, so callers read `error.data.reason` everywhere. */
function sendTrpcError(reply: FastifyReply, status: number, message: string) {
  const r = refusals[status] ?? refusals[400]!;
  return reply.code(r.httpStatus).send({
    error: { message, code: r.jsonRpc, data: { code: r.code, httpStatus: r.httpStatus, reason: r.code, path: null } },
  });
}

const isTrpc = (req: FastifyRequest) => req.url.startsWith('/trpc/') || req.url === '/trpc';

/** The most calls one batched request may carry (tRPC refuses a larger batch before running any). */
export const MAX_BATCH_SIZE = 20;

/** The procedures a batched request names, or null when it is not a batch. */
function batchedPaths(req: FastifyRequest): string[] | null {
  const url = new URL(req.url, 'http://localhost');
  if (url.searchParams.get('batch') !== '1') return null;
  let path = url.pathname.slice('/trpc/'.length);
  try {
    path = decodeURIComponent(path);
  } catch {
    // tRPC itself refuses a path it cannot decode.
  }
  return path.split(',');
}

/**
 * Requests Fastify refuses before tRPC sees them (a body too large, a content type it cannot
 * parse) answer as tRPC errors too; tRPC bodies are JSON, so anything else is refused up front
 * rather than handed to tRPC as a raw stream. And a batch naming an auth.* procedure is refused.
 */
export function registerTrpcHttpGuards(app: FastifyInstance) {
  app.addHook('onRequest', async (req, reply) => {
    if (isTrpc(req) && req.url.length > MAX_TRPC_URL_LENGTH) return sendTrpcError(reply, 431, TOO_LONG);
  });

  app.addHook('onRequest', async (req, reply) => {
    // One request must not carry many guesses past the throttle: sign-in calls come one at a time.
    if (isTrpc(req) && batchedPaths(req)?.some((p) => p.trim().startsWith('auth.'))) {
      return sendTrpcError(reply, 400, 'auth.* procedures cannot be batched: send each call on its own request.');
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    if (!isTrpc(req) || req.method !== 'POST') return;
    const type = req.headers['content-type'];
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (type === undefined ? hasBody : !/^application\/json\s*(;|$)/i.test(type)) {
      return sendTrpcError(reply, 415, `Send the input as JSON (Content-Type: application/json), not ${type ?? 'an untyped body'}.`);
    }
  });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const status = error.statusCode ?? 500;
    if (isTrpc(req) && status >= 400 && status < 500) {
      const message = status === 413 ? 'The request body is too large.' : status === 415 ? 'Send the input as JSON.' : error.message;
      return sendTrpcError(reply, status, message);
    }
    if (status >= 500) {
      req.log.error({ err: error }, 'request failed');
      return reply.code(500).send({ error: 'Internal Server Error' });
    }
    return reply.code(status).send({ error: error.message });
  });
}

/**
 * Requests Node's parser refuses before Fastify sees them (a GET batch whose URL passes the header
 * size limit, malformed HTTP) answer in tRPC's error shape too, and close the connection so that
 * the client does not send its next request on a socket that is going away.
 */
export function trpcClientErrorHandler(error: NodeJS.ErrnoException, socket: Socket) {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const message = status === 431 ? TOO_LONG : 'The request is not valid HTTP.';
  const body = JSON.stringify({ error: { message, code: -32600, data: { code: 'BAD_REQUEST', httpStatus: status, reason: 'BAD_REQUEST', path: null } } });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
