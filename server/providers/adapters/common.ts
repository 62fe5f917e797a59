import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { outboundRefusal, type Outbound } from '../../net/outbound';
import { ProviderError, type EnhanceRequest, type HealthResult, type ProviderTask, type TaskState } from '../types';

/** An output image URL as a provider returns it: http(s) only, since it ends up in a browser. */
export const imageUrlSchema = z.url({ protocol: /^https?$/ });

/** Validates a provider's answer; a wrong shape names the fields, so an admin sees what changed. */
export function parseShape<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new ProviderError('malformed', `${what} answered an unexpected shape (${fields})`);
}

const envelope = z.object({ code: z.number(), msg: z.string().nullish(), data: z.unknown() });

/** Kie and NanoBanana wrap every answer in { code, msg, data }; code 200 is the only success. */
export function unwrap(answer: unknown, what: string): unknown {
  const { code, msg, data } = parseShape(envelope, answer, what);
  if (code !== 200) throw new ProviderError('failed', `${what} answered code ${code}: ${msg || 'no message'}`);
  return data;
}

export function requireKey(name: string, apiKey: string | null): string {
  if (!apiKey) throw new ProviderError('failed', `provider ${name} has no API key configured`);
  return apiKey;
}

/**
 * Polls an async job until `check` returns a result (undefined means "not yet"), waiting 250 ms
 * and growing to 1 s between polls, so quick jobs finish fast without hammering slow ones.
 * Stops as soon as the attempt's signal aborts.
 */
export async function pollUntil<T>(signal: AbortSignal, what: string, check: () => Promise<T | undefined>): Promise<T> {
  let delay = 250;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      throw new ProviderError('timeout', `${what} timed out while waiting for the job to finish`);
    }
    delay = Math.min(1000, Math.round(delay * 1.5));
  }
}

/**
 * A provider that answers at all is up: 2xx-4xx count as healthy (a 401 or 404 on a bare URL still
 * proves the service is reachable), 5xx, timeouts and network errors do not. No credentials are sent.
 */
export async function probeHealth(http: Outbound, url: string, signal: AbortSignal): Promise<HealthResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const res = await http.fetch(url, { redirect: 'manual', signal });
    await res.body?.cancel();
    return { ok: res.status < 500, latencyMs: latency(), detail: `HTTP ${res.status}` };
  } catch (err) {
    const refused = outboundRefusal(err);
    if (refused) return { ok: false, latencyMs: latency(), detail: `refused: ${refused.message}` };
    const e = err as Error & { cause?: { code?: string } };
    const timedOut = e.name === 'AbortError' || e.name === 'TimeoutError';
    return { ok: false, latencyMs: latency(), detail: timedOut ? 'health check timed out' : `unreachable: ${e.cause?.code ?? e.message}` };
  }
}

/** Joins a configured base URL and an API path without doubling or losing the slash. */
export function apiUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/**
 * Submits a provider task once: a task the attempt already submitted (a retry after a failed poll,
 * a worker that took the work over after a restart) is polled again instead, so one attempt never
 * pays a provider for two tasks. The caller hears of a new task before the first poll.
 */
export async function submitOnce(request: EnhanceRequest, submit: () => Promise<ProviderTask>): Promise<ProviderTask> {
  if (request.task?.resume) return request.task.resume;
  const task = await submit();
  await request.task?.onSubmitted?.(task);
  return task;
}

/** Polls a task until it is done (its output URL) or failed (a `failed` ProviderError with its message). */
export function awaitTask(signal: AbortSignal, what: string, poll: () => Promise<TaskState>): Promise<string> {
  return pollUntil(signal, what, async () => {
    const s = await poll();
    if (s.state === 'pending') return undefined;
    if (s.state === 'failed') throw new ProviderError('failed', s.message);
    return s.outputUrl;
  });
}

/** Appends a query parameter to a URL that may already carry some. */
export function withQuery(url: string, name: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.toString();
}
