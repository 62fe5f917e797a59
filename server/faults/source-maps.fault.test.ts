import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import viteConfig from '../../vite.config';
import { createTestEnv, type TestEnv } from '../test/harness';
import type { LiveServer } from './lib/live-server';
import { startSpaServer } from './lib/spa-server';

/**
 * [SOURCE] The SPA's source is not published: production builds write hidden source maps (no
 * sourceMappingURL in the bundles), and the static server never serves a .map file, even one a
 * build left next to the bundles.
 */

let env: TestEnv;
let server: LiveServer;
const SOURCE = 'const secretAdminLogic = "from client/src";';

beforeAll(async () => {
  env = await createTestEnv();
  // A built SPA as vite leaves it: index.html, a bundle and its map.
  server = await startSpaServer(env, {
    'index.html': '<!doctype html><script src="/assets/index-abc.js"></script>',
    'assets/index-abc.js': 'console.log(1);',
    'assets/index-abc.js.map': JSON.stringify({ version: 3, sources: ['App.tsx'], sourcesContent: [SOURCE] }),
  });
});
afterAll(async () => {
  await server?.close();
  await env?.close();
});

describe('[SOURCE] no source map is published', () => {
  it('production builds emit hidden source maps', () => {
    expect((viteConfig as { build?: { sourcemap?: unknown } }).build?.sourcemap).toBe('hidden');
  });

  it.each([
    ['a script', {}],
    ['a browser navigation', { accept: 'text/html' }],
  ])('/assets/*.js.map is not served to %s; the bundle is', async (_label, headers: Record<string, string>) => {
    for (const url of ['/assets/index-abc.js.map', '/assets/INDEX-ABC.JS.MAP', '/assets/index-abc.js.map?x=1', '/assets/%69ndex-abc.js.map']) {
      const res = await fetch(`${server.origin}${url}`, { headers });
      const text = await res.text();
      expect(text, url).not.toContain('secretAdminLogic');
      if (!headers.accept) expect(res.status, url).toBe(404);
    }
    const bundle = await fetch(`${server.origin}/assets/index-abc.js`);
    expect(bundle.status).toBe(200);
  });
});
