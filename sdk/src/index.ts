import createClient, { type Client } from 'openapi-fetch';
import { CreditdeskError } from './error.js';
import type { paths } from './schema.js';
import type { InputOf, MutationProcedure, OutputOf, QueryProcedure } from './types.js';

export { CreditdeskError } from './error.js';
export type { ErrorBody, ErrorReason, InputOf, MutationProcedure, OutputOf, Procedure, QueryProcedure } from './types.js';
export type { components, paths } from './schema.js';

export type CreditdeskOptions = {
  /** Where Creditdesk answers, e.g. `https://credits.example.com`. */
  baseUrl: string;
  /** An API key (`cd_live_…`) or one user's token (`cdu_…`), sent as `Authorization: Bearer`. */
  token?: string;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
};

export type CallOptions = { token?: string; signal?: AbortSignal };

export type Creditdesk = {
  /** A query: `GET /trpc/<procedure>?input=<JSON>`; answers `result.data`. */
  query<P extends QueryProcedure>(procedure: P, input: InputOf<P>, opts?: CallOptions): Promise<OutputOf<P>>;
  /** A mutation: `POST /trpc/<procedure>` with the input as the body; answers `result.data`. */
  mutate<P extends MutationProcedure>(procedure: P, input: InputOf<P>, opts?: CallOptions): Promise<OutputOf<P>>;
  /** The underlying openapi-fetch client, typed by the document, for anything else. */
  raw: Client<paths>;
};

type Answer = { data?: unknown; error?: unknown; response: Response };
type Call = (path: string, init: Record<string, unknown>) => Promise<Answer>;

function unwrap(answer: Answer): unknown {
  if (!answer.response.ok) throw new CreditdeskError(answer.response.status, answer.error);
  const data = answer.data as { result?: { data?: unknown } } | undefined;
  if (!data?.result || !('data' in data.result)) throw new CreditdeskError(answer.response.status, data);
  return data.result.data;
}

/** A typed Creditdesk client that needs nothing but fetch. */
export function createCreditdesk(options: CreditdeskOptions): Creditdesk {
  const raw = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), ...(options.fetch ? { fetch: options.fetch } : {}) });
  const headers = (opts?: CallOptions) => {
    const token = opts?.token ?? options.token;
    return token ? { authorization: `Bearer ${token}` } : {};
  };
  // The procedure name is checked by the signatures above; openapi-fetch's own overloads cannot follow a generic path.
  const get = raw.GET as unknown as Call;
  const post = raw.POST as unknown as Call;
  return {
    raw,
    async query(procedure, input, opts) {
      const query = input === undefined ? {} : { input: JSON.stringify(input) };
      return unwrap(await get(`/trpc/${procedure}`, { params: { query }, headers: headers(opts), signal: opts?.signal })) as never;
    },
    async mutate(procedure, input, opts) {
      return unwrap(await post(`/trpc/${procedure}`, { body: input, headers: headers(opts), signal: opts?.signal })) as never;
    },
  };
}
