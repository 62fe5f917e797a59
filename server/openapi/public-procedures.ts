import type { AnyTRPCRouter } from '@trpc/server';
import type { ProcedureMeta } from '../trpc/init';
import { credentialOf, type Credential } from '../trpc/procedures';

export type OpenApiMeta = NonNullable<ProcedureMeta['openapi']>;

export type PublicProcedure = {
  /** The tRPC path, e.g. `credits.balance`; the HTTP path is `/trpc/<path>`. */
  path: string;
  type: 'query' | 'mutation';
  /** Every `.input()` parser in order; tRPC merges what they parse into one input object. */
  inputs: unknown[];
  output: unknown;
  meta: OpenApiMeta | undefined;
  /** The bearer credential its middleware accepts; null when it needs none. */
  credential: Credential | null;
};

type ProcedureDef = {
  type: 'query' | 'mutation' | 'subscription';
  inputs: unknown[];
  output?: unknown;
  meta?: ProcedureMeta;
  middlewares: object[];
};

/**
 * The rule for what the OpenAPI document holds, decided here once:
 * - nothing under `admin.` (the admin console's own API, behind an admin session);
 * - under `auth.` only procedures that carry `meta.openapi` (today auth.userToken): the rest of
 *   auth.* is the console's sign-in and session management;
 * - no subscriptions (they stream over SSE, which a plain request/response document cannot state);
 * - every other query and mutation, with or without meta — a test insists each carries
 *   `meta.openapi` with a summary and a working example.
 */
export function isPublicProcedure(path: string, def: Pick<ProcedureDef, 'type' | 'meta'>): boolean {
  if (def.type === 'subscription') return false;
  if (path.startsWith('admin.')) return false;
  if (path.startsWith('auth.')) return def.meta?.openapi !== undefined;
  return true;
}

/** Every procedure of the router by its dotted path, as tRPC flattens nested routers. */
export const procedureDefs = (router: AnyTRPCRouter): [string, ProcedureDef][] => Object.entries(router._def.procedures as Record<string, { _def: ProcedureDef }>).map(([path, p]) => [path, p._def]);

/** The router's public procedures, sorted by path so the document is the same on every start. */
export function publicProcedures(router: AnyTRPCRouter): PublicProcedure[] {
  return procedureDefs(router)
    .filter(([path, def]) => isPublicProcedure(path, def))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, _def]) => ({
      path,
      type: _def.type as 'query' | 'mutation',
      inputs: _def.inputs,
      output: _def.output,
      meta: _def.meta?.openapi,
      credential: _def.middlewares.map((m) => credentialOf.get(m)).find((c) => c !== undefined) ?? null,
    }));
}
