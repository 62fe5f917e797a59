import type { LightMyRequestResponse as InjectResponse } from 'fastify';

export type Answer = { status: number; body: unknown; text: string };

export const answerOf = (res: InjectResponse): Answer => {
  let body: unknown = undefined;
  try {
    body = JSON.parse(res.body);
  } catch {
    // left undefined: not JSON, which shapeProblem reports
  }
  return { status: res.statusCode, body, text: res.body };
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What leaks when an internal error's message reaches the caller. */
const LEAKS = [/Failed query/i, /\bparams:/, /\bselect\b[\s\S]*\bfrom\b/i, /\binsert into\b/i, /\bupdate\b\s+"?\w+"?\s+set\b/i, /\n\s+at\s/, /node_modules/, /"stack"/];

/**
 * Why one tRPC response item is not clean, or null when it is: a success `{ result: { data } }`, or
 * `{ error: { message, code, data: { code, httpStatus, reason } } }` whose httpStatus is `status`
 * (when given) and which leaks no SQL or stack.
 */
export function itemProblem(item: unknown, status?: number): string | null {
  if (!isObject(item)) return 'not a JSON object';
  if ('result' in item) {
    if ('error' in item) return 'both result and error';
    return isObject(item.result) && 'data' in item.result ? null : 'result without data';
  }
  const error = item.error;
  if (!isObject(error)) return 'neither result nor error';
  if (typeof error.message !== 'string' || error.message.length === 0) return 'error.message is not a non-empty string';
  if (typeof error.code !== 'number') return 'error.code is not a JSON-RPC number';
  const data = error.data;
  if (!isObject(data)) return 'error.data missing';
  if (typeof data.code !== 'string') return 'error.data.code is not a string';
  if (typeof data.httpStatus !== 'number') return 'error.data.httpStatus is not a number';
  if (status !== undefined && data.httpStatus !== status) return `error.data.httpStatus ${String(data.httpStatus)} differs from the HTTP status ${status}`;
  if (typeof data.reason !== 'string' || data.reason.length === 0) return 'error.data.reason is not a non-empty string';
  if ('stack' in data) return 'error.data carries a stack';
  const text = JSON.stringify(item);
  const leak = LEAKS.find((re) => re.test(text));
  return leak ? `the error leaks internals (${String(leak)})` : null;
}

// 431: a URL too long for the server, refused in tRPC's shape (send the input as a POST body).
export const ALLOWED_STATUSES = new Set([200, 400, 401, 403, 404, 409, 412, 413, 415, 429, 431]);

/** Why an HTTP answer to one call is not acceptable, or null. `extra` admits e.g. 405 for a wrong method. */
export function answerProblem(answer: Answer, extra: number[] = []): string | null {
  if (!ALLOWED_STATUSES.has(answer.status) && !extra.includes(answer.status)) return `status ${answer.status} is not allowed`;
  if (answer.body === undefined) return 'the body is not JSON';
  if (answer.status === 200 && !(isObject(answer.body) && 'result' in answer.body)) return 'status 200 without a result';
  if (answer.status !== 200 && !(isObject(answer.body) && 'error' in answer.body)) return `status ${answer.status} without a tRPC error`;
  return itemProblem(answer.body, answer.status);
}
