import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../test/spawn';
import { renderSdkFiles, sdkDocumentPath, sdkSchemaPath } from './sdk-files';

const run = promisify(execFile);
const tsc = path.join(repoRoot, 'node_modules/.bin/tsc');

describe('[SDK] the typed client in sdk/', () => {
  it('its committed document and types are what the router generates now (else run npm run sdk:generate)', async () => {
    const fresh = await renderSdkFiles();
    expect(readFileSync(sdkDocumentPath, 'utf8'), 'sdk/openapi.json is stale: npm run sdk:generate').toBe(fresh.document);
    expect(readFileSync(sdkSchemaPath, 'utf8'), 'sdk/src/schema.ts is stale: npm run sdk:generate').toBe(fresh.schema);
  });

  it('compiles on its own under moduleResolution NodeNext, importing nothing but openapi-fetch and its own files', async () => {
    const src = path.join(repoRoot, 'sdk/src');
    for (const file of readdirSync(src)) {
      const imports = [...readFileSync(path.join(src, file), 'utf8').matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\/[\w-]+\.js|openapi-fetch)$/);
    }
    const config = JSON.parse(readFileSync(path.join(repoRoot, 'sdk/tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, string> };
    expect(config.compilerOptions).toMatchObject({ module: 'NodeNext', moduleResolution: 'NodeNext' });
    const { stdout } = await run(tsc, ['-p', 'sdk/tsconfig.json', '--noEmit'], { cwd: repoRoot }).catch((err: { stdout: string }) => ({ stdout: `FAILED\n${err.stdout}` }));
    expect(stdout).toBe('');
  }, 120_000);
});
