import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { isDatabaseUnavailable, pgErrorCode } from '../db/errors';
import { findNul } from './nul-guard';
import { DomainError } from '../errors';
import type { ContextInner } from './context';
import { fieldMessage } from '../../shared/field-messages';
// Plain-language zod messages for every schema the procedures parse with.
import '../../shared/zod-messages';

/**
 * Each failing field's first problem, as a person reads it under that field (no field name):
 * `{ currentPassword: 'Required' }`. A DomainError that blames fields (`details.fields`) puts
 * its message under the first of them.
 */
function fieldErrorsOf(error: unknown): Record<string, string> | null {
  if (error instanceof ZodError) {
    const out: Record<string, string> = {};
    for (const issue of error.issues) {
      const path = issue.path.map(String).join('.');
      if (path) out[path] ??= fieldMessage(path, issue.message);
    }
    return Object.keys(out).length ? out : null;
  }
  if (error instanceof DomainError) {
    const fields = error.details?.fields;
    if (Array.isArray(fields) && typeof fields[0] === 'string') return { [fields[0]]: error.message };
  }
  return null;
}

/** `a.b: message; c: message` — names every field that failed, in the order zod found them. */
function describeZodError(error: ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * What the OpenAPI document (`GET /openapi.json`) says of a public procedure beside its zod schemas:
 * a one-line summary, an optional longer description, and an input that works as a real example.
 */
export interface ProcedureMeta {
  openapi?: { summary: string; description?: string; tags?: string[]; example?: unknown };
}

export const t = initTRPC
  .context<ContextInner>()
  .meta<ProcedureMeta>()
  .create({
    // Stack traces never leave the server.
    isDev: false,
    // Live streams (admin.live.*): a ping every 4 s keeps proxies from closing an idle stream, and a
    // browser that hears nothing for 10 s (server gone, network cut) reconnects with its last event id.
    sse: { ping: { enabled: true, intervalMs: 4_000 }, client: { reconnectAfterInactivityMs: 10_000 } },
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      const isZod = cause instanceof ZodError;
      const domain = cause instanceof DomainError ? cause : null;
      return {
        ...shape,
        // An unexpected failure's own text (SQL, parameters, paths) stays in the server log.
        message: error.code === 'INTERNAL_SERVER_ERROR' ? 'Something went wrong on the server. Try again.' : shape.message,
        data: {
          ...shape.data,
          reason: domain?.reason ?? error.code,
          details: domain?.details ?? null,
          fields: isZod ? cause.issues.map((i) => i.path.join('.')) : null,
          fieldErrors: fieldErrorsOf(cause),
        },
      };
    },
  });

/**
 * The one middleware every procedure runs first. It turns a DomainError thrown anywhere below into
 * the tRPC error its code names, and gives input validation errors a message naming each field —
 * for HTTP callers and createCaller alike. And a mutation that answered without error has committed
 * whatever it wrote (every write path commits before its procedure returns), so it tells the live
 * streams of every process, after the fact, through the change bus (a flag set here, flushed by a
 * timer; nothing is published for a failed, rolled-back call).
 *
 * One middleware, not one per concern: tRPC copies a call's options object (with its Babel spread
 * helper) twice for each middleware, which was 5.8% of the server's CPU per consume across five.
 */
export const callBoundary = t.middleware(async ({ ctx, type, next, getRawInput }) => {
  const nulAt = findNul(await getRawInput().catch(() => undefined));
  if (nulAt) throw new TRPCError({ code: 'BAD_REQUEST', message: `${nulAt}: must not contain NUL characters` });
  const result = await next();
  if (result.ok) {
    if (type === 'mutation') ctx.deps.realtime.bus.changed();
    return result;
  }
  const cause = result.error.cause;
  if (cause instanceof DomainError) throw new TRPCError({ code: cause.code, message: cause.message, cause });
  if (cause instanceof ZodError && result.error.code === 'BAD_REQUEST') {
    throw new TRPCError({ code: 'BAD_REQUEST', message: describeZodError(cause), cause });
  }
  if (['22021', '22P05'].includes(pgErrorCode(cause) ?? '')) {
    // A character PostgreSQL cannot store slipped past validation: the input's fault, not ours.
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'The input holds characters that cannot be stored.', cause });
  }
  if (isDatabaseUnavailable(cause)) {
    // Nothing was written (a statement that cannot reach the database commits nothing): safe to retry.
    throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The database is unavailable right now; nothing was changed. Retry shortly.', cause });
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
