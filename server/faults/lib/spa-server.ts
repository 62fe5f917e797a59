import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config';
import type { TestEnv } from '../../test/harness';
import { startLiveServer, type LiveServer } from './live-server';

/**
 * The real HTTP host serving a built SPA made of `files` (path under the static root → content),
 * in a directory of its own that close() removes; `settings` are environment settings over the test's.
 */
export async function startSpaServer(env: TestEnv, files: Record<string, string>, settings: Record<string, string> = {}): Promise<LiveServer> {
  const staticDir = mkdtempSync(path.join(os.tmpdir(), 'creditdesk-static-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(staticDir, name)), { recursive: true });
    writeFileSync(path.join(staticDir, name), content);
  }
  const config = loadConfig({ ...env.env, ...settings, STATIC_DIR: staticDir });
  const server = await startLiveServer({ ...env.deps, config: { ...config, REDIS_PREFIX: env.deps.config.REDIS_PREFIX } });
  return {
    ...server,
    close: async () => {
      await server.close();
      rmSync(staticDir, { recursive: true, force: true });
    },
  };
}
