import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { OpenApiDocument } from '../openapi/document';

export type DocumentedOperation = {
  /** `/trpc/credits.balance` */
  path: string;
  method: 'get' | 'post';
  procedure: string;
  op: {
    summary?: string;
    security?: Record<string, string[]>[];
    parameters?: { name: string; in: string; content: Record<string, { schema: unknown; example?: unknown }> }[];
    requestBody?: { content: Record<string, { schema: unknown; example?: unknown }> };
  };
  example: unknown;
  /** JSON pointer (within the document) of the input schema, when it takes one. */
  inputPointer: string | null;
  successPointer: string;
};

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Every operation of the document, read only from the document itself (nothing from the router). */
export function documentedOperations(doc: OpenApiDocument): DocumentedOperation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    (['get', 'post'] as const)
      .filter((method) => item[method])
      .map((method) => {
        const op = item[method] as DocumentedOperation['op'];
        const base = `#/paths/${escape(path)}/${method}`;
        const inParam = op.parameters?.findIndex((p) => p.name === 'input' && p.in === 'query') ?? -1;
        const inputPointer =
          method === 'get' ? (inParam >= 0 ? `${base}/parameters/${inParam}/content/application~1json/schema` : null) : op.requestBody ? `${base}/requestBody/content/application~1json/schema` : null;
        const example = method === 'get' ? op.parameters?.[inParam]?.content['application/json']?.example : op.requestBody?.content['application/json']?.example;
        return { path, method, procedure: path.replace(/^\/trpc\//, ''), op, example, inputPointer, successPointer: `${base}/responses/200/content/application~1json/schema` };
      }),
  );
}

/** A call exactly as the document describes it, by plain fetch: JSON body for POST, `?input=` for GET. */
export function callAsDocumented(baseUrl: string, o: Pick<DocumentedOperation, 'path' | 'method'>, input: unknown, bearer?: string): Promise<Response> {
  const auth: Record<string, string> = bearer ? { authorization: `Bearer ${bearer}` } : {};
  if (o.method === 'get') {
    const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return fetch(`${baseUrl}${o.path}${query}`, { headers: auth });
  }
  return fetch(`${baseUrl}${o.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(input) });
}

/** Validators for any schema of the document by JSON pointer, references to its components resolved. */
export function documentValidator(doc: OpenApiDocument) {
  // strict: false — the document's non-schema parts (info, paths…) sit beside the schemas it holds.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'openapi.json');
  return (pointer: string, value: unknown): string | null => {
    const validate = ajv.getSchema(`openapi.json${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    return validate(value) ? null : ajv.errorsText(validate.errors);
  };
}

export const ERROR_POINTER = '#/components/schemas/Error';
