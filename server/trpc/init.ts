import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { DomainError } from '../errors';
import type { ContextInner } from './context';

/** `a.b: message; c: message` — names every field that failed, in the order zod found them. */
function describeZodError(error: ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export const t = initTRPC.context<ContextInner>().create({
  // Stack traces never leave the server.
  isDev: false,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const isZod = cause instanceof ZodError;
    const domain = cause instanceof DomainError ? cause : null;
    return {
      ...shape,
      message: isZod ? describeZodError(cause) : shape.message,
      data: {
        ...shape.data,
        reason: domain?.reason ?? error.code,
        details: domain?.details ?? null,
        fields: isZod ? cause.issues.map((i) => i.path.join('.')) : null,
      },
    };
  },
});

/** Turns a DomainError thrown anywhere below into the tRPC error its code names. */
export const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const d = result.error.cause;
    throw new TRPCError({ code: d.code, message: d.message, cause: d });
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
