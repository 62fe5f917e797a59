import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { appRouter } from '../trpc/root';
import { buildOpenApiDocument } from './document';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sdkDocumentPath = path.join(repoRoot, 'sdk/openapi.json');
export const sdkSchemaPath = path.join(repoRoot, 'sdk/src/schema.ts');

const header = `// Generated from sdk/openapi.json by openapi-typescript (npm run sdk:generate). Do not edit.\n\n`;

/**
 * The SDK's generated files as they should be now: the document (with a relative server, as any
 * deployment serves it) and its TypeScript types. `npm run sdk:generate` writes them; a test
 * fails while the committed ones differ.
 */
export async function renderSdkFiles(): Promise<{ document: string; schema: string }> {
  const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const doc = buildOpenApiDocument(appRouter, { version });
  const document = `${JSON.stringify(doc, null, 2)}\n`;
  const ast = await openapiTS(JSON.parse(document) as Parameters<typeof openapiTS>[0]);
  return { document, schema: header + astToString(ast) };
}
