import { afterAll, beforeAll } from 'vitest';
import { startImageServer } from '../../test/fake-providers';
import { apiKeyCaller, createTestEnv, type TestEnv } from '../../test/harness';
import { configureProviders } from '../../test/provider-helpers';
import type { Answer } from './http-shape';
import { startLiveServer, type LiveServer } from './live-server';

/**
 * A real HTTP server with one `local` provider and an image server, for the attacks one product app
 * makes on another's work (holds, idempotency keys): registers its own setup and teardown.
 */
export function useAppsServer() {
  const s = {} as { env: TestEnv; server: LiveServer; images: Awaited<ReturnType<typeof startImageServer>> };
  beforeAll(async () => {
    s.env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
    s.images = await startImageServer();
    await configureProviders(s.env.deps, [{ name: 'local', kind: 'local', baseUrl: 'http://localhost', timeoutMs: 5_000 }]);
    s.server = await startLiveServer(s.env.deps);
  });
  afterAll(async () => {
    await s.server?.close();
    await s.images?.close();
    await s.env?.close();
  });
  return s;
}

/** The scopes of a product app that charges, holds and enhances. */
export const appScopes = ['credits:read', 'credits:write', 'enhance'] as const;
/** Two product apps, each its own API key with every app scope. */
export const twoApps = async (env: TestEnv) => [await apiKeyCaller(env.deps, [...appScopes]), await apiKeyCaller(env.deps, [...appScopes])] as const;
export const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
export const reasonOf = (a: Answer) => (a.body as { error?: { data?: { reason?: string } } }).error?.data?.reason ?? 'OK';
export const dataOf = <T>(a: Answer) => (a.body as { result: { data: T } }).result.data;
