import type { components, paths } from './schema.js';

type Schemas = components['schemas'];

/** Every procedure the document names, e.g. `'credits.balance'`. */
export type Procedure = { [K in keyof paths]: K extends `/trpc/${infer P}` ? P : never }[keyof paths];
/** Procedures read with `GET /trpc/<procedure>?input=…`. */
export type QueryProcedure = { [P in Procedure]: paths[`/trpc/${P}`] extends { get: object } ? P : never }[Procedure];
/** Procedures called with `POST /trpc/<procedure>`. */
export type MutationProcedure = Exclude<Procedure, QueryProcedure>;

export type InputOf<P extends Procedure> = `${P}.input` extends keyof Schemas ? Schemas[`${P}.input`] : undefined;
export type OutputOf<P extends Procedure> = `${P}.output` extends keyof Schemas ? Schemas[`${P}.output`] : never;

/** The stable reason a refusal carries in `error.data.reason` (e.g. `INSUFFICIENT_CREDITS`). */
export type ErrorReason = Schemas['ErrorReason'];
export type ErrorBody = Schemas['Error'];
