/** `npm run sdk:generate`: rewrites sdk/openapi.json and sdk/src/schema.ts from the router. */
import { writeFileSync } from 'node:fs';
import { renderSdkFiles, sdkDocumentPath, sdkSchemaPath } from './sdk-files';

const { document, schema } = await renderSdkFiles();
writeFileSync(sdkDocumentPath, document);
writeFileSync(sdkSchemaPath, schema);
process.stdout.write(`wrote ${sdkDocumentPath} and ${sdkSchemaPath}\n`);
