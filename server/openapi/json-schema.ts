import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

function asZod(schema: unknown, what: string): z.ZodType {
  if (schema instanceof z.ZodType) return schema;
  throw new Error(`${what}: the OpenAPI document is generated from zod schemas, and this parser is not one`);
}

/**
 * One zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), without its `$schema` line. A Date
 * travels as its ISO string (JSON, no transformer); anything else JSON Schema cannot state is
 * documented as any value rather than keeping the server from starting.
 */
export function toJsonSchema(schema: unknown, io: 'input' | 'output', what: string): JsonSchema {
  const json = z.toJSONSchema(asZod(schema, what), {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema._zod.def.type === 'date') Object.assign(jsonSchema, { type: 'string', format: 'date-time' });
    },
  }) as JsonSchema;
  delete json.$schema;
  return json;
}

/**
 * The input a procedure takes. tRPC runs each `.input()` parser over the same raw input and merges
 * the objects they return, so object schemas merge into one object (properties and required keys
 * together); anything else is documented as all of them at once.
 */
export function inputSchemaOf(inputs: unknown[], what: string): JsonSchema | null {
  if (inputs.length === 0) return null;
  const parts = inputs.map((schema) => toJsonSchema(schema, 'input', what));
  if (parts.length === 1) return parts[0]!;
  if (!parts.every((p) => p.type === 'object')) return { allOf: parts };
  const properties: Record<string, unknown> = {};
  const required = new Set<string>();
  for (const part of parts) {
    Object.assign(properties, part.properties);
    for (const key of (part.required as string[] | undefined) ?? []) required.add(key);
  }
  return { type: 'object', properties, required: [...required] };
}
