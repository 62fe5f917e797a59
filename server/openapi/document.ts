import type { AnyTRPCRouter } from '@trpc/server';
import { errorComponents } from './error-shape';
import { inputSchemaOf, toJsonSchema, type JsonSchema } from './json-schema';
import { publicProcedures, type PublicProcedure } from './public-procedures';
import { operationDescription, wireFormat } from './wording';

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string; description?: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, unknown>;
  tags: { name: string }[];
};

/** `{ "result": { "data": <output> } }`: tRPC's success envelope (no transformer, plain JSON). */
const envelope = (data: JsonSchema) => ({
  type: 'object',
  required: ['result'],
  properties: { result: { type: 'object', required: ['data'], properties: { data } } },
});

function securityOf(proc: PublicProcedure) {
  const c = proc.credential;
  if (!c) return [];
  // OpenAPI 3.1 lets a non-OAuth requirement list role names: here the API key's scope.
  return c.userToken ? [{ apiKey: [c.apiKeyScope] }, { userToken: [] }] : [{ apiKey: [c.apiKeyScope] }];
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/**
 * One procedure's operation. Its input and output are named components (`<procedure>.input`,
 * `<procedure>.output`): clients generated from the document get a type for each, which matters
 * for queries, whose input travels as a JSON string in `?input=`.
 */
function operationOf(proc: PublicProcedure, schemas: Record<string, JsonSchema>) {
  const what = `procedure ${proc.path}`;
  const inputSchema = inputSchemaOf(proc.inputs, what);
  schemas[`${proc.path}.output`] = proc.output === undefined ? {} : toJsonSchema(proc.output, 'output', what);
  const output = ref(`${proc.path}.output`);
  if (inputSchema) schemas[`${proc.path}.input`] = inputSchema;
  const input = inputSchema && ref(`${proc.path}.input`);
  const example = proc.meta?.example;
  const media = (schema: JsonSchema) => ({ schema, ...(example === undefined ? {} : { example }) });
  const carrier =
    input === null
      ? {}
      : proc.type === 'query'
        ? // tRPC reads a query's input from `?input=` as URL-encoded JSON: a parameter with `content`.
          { parameters: [{ name: 'input', in: 'query', required: true, description: 'The input as JSON, URL-encoded.', content: { 'application/json': media(input) } }] }
        : { requestBody: { required: true, content: { 'application/json': media(input) } } };
  return {
    operationId: proc.path,
    summary: proc.meta?.summary ?? proc.path,
    description: operationDescription(proc),
    tags: proc.meta?.tags ?? [proc.path.split('.')[0]!],
    security: securityOf(proc),
    ...carrier,
    responses: {
      '200': { description: 'Success: the output is `result.data`.', content: { 'application/json': { schema: envelope(output) } } },
      default: { $ref: '#/components/responses/Error' },
    },
    'x-trpc-procedure': proc.type,
  };
}

/** The OpenAPI 3.1 document of the router's public procedures, built from their own zod schemas. */
export function buildOpenApiDocument(router: AnyTRPCRouter, opts: { version: string; serverUrl?: string }): OpenApiDocument {
  const procs = publicProcedures(router);
  const paths: OpenApiDocument['paths'] = {};
  const schemas: Record<string, JsonSchema> = {};
  for (const proc of procs) paths[`/trpc/${proc.path}`] = { [proc.type === 'query' ? 'get' : 'post']: operationOf(proc, schemas) };
  const tags = [...new Set(procs.flatMap((p) => p.meta?.tags ?? [p.path.split('.')[0]!]))].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: { title: 'Creditdesk API', version: opts.version, description: wireFormat },
    servers: [{ url: opts.serverUrl ?? '/' }],
    paths,
    tags,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'cd_live_…',
          description: 'A product app’s API key (created by an admin in Settings → API keys). The operation lists the scope it needs.',
        },
        userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'cdu_…', description: 'One end user’s short-lived token from auth.userToken: reads that user’s own credits only.' },
      },
      schemas: { ...schemas, ...errorComponents.schemas },
      responses: errorComponents.responses,
    },
  };
}
