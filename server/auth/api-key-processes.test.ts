import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyUsage } from './api-keys';
import { trpcHttp } from '../test/http-client';
import { createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { key, newUser } from '../test/ledger-helpers';
import { startServer, type ServerProcess } from '../test/spawn';
import { waitFor } from '../test/wait';

let env: TestEnv;
let servers: ServerProcess[] = [];
let cookie: string;

beforeAll(async () => {
  env = await createTestEnv();
  const serverEnv = { ...env.env, LOG_LEVEL: 'warn', WORKER_IN_SERVER: 'false', DATABASE_POOL_MAX: '5' };
  servers = await Promise.all([startServer(serverEnv), startServer(serverEnv)]);
  cookie = `cd_session=${(await signedInCaller(env.deps, 'admin')).token}`;
}, 120_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const usageOf = async (keyId: string) => (await apiKeyUsage(db())).find((u) => u.apiKeyId === keyId)?.total;

/** An admin procedure over HTTP with the session cookie, as the SPA calls it. */
async function admin(server: number, procedure: string, input: unknown): Promise<any> {
  const res = await fetch(`${servers[server]!.url}/trpc/${procedure}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify(input),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.result.data;
}

const consume = (server: number, secret: string, userId: string) =>
  trpcHttp(servers[server]!.url, secret).mutation('credits.consume', { userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key() });

/** Both processes serve the key from memory: a call through each, once each process trusts its channel. */
async function warm(secret: string, userId: string) {
  for (const s of [0, 1]) {
    await waitFor(async () => (await fetch(`${servers[s]!.url}/readyz`)).status === 200, { what: `server ${s} ready` });
    expect((await consume(s, secret, userId)).status).toBe(200);
    expect((await consume(s, secret, userId)).status).toBe(200);
  }
}

describe('[AUTH] API key changes reach every server process (Redis pub/sub, acknowledged)', () => {
  it('a key revoked on one server process is refused on the other at once', async () => {
    const userId = await newUser(db(), 'pro');
    const { apiKey, secret } = await admin(0, 'admin.apiKeys.create', { name: 'two processes', scopes: ['credits:write'] });
    await warm(secret, userId);

    await admin(0, 'admin.apiKeys.revoke', { id: apiKey.id });
    // The very next call, on the process that did not revoke it.
    const refused = await consume(1, secret, userId);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toBe('This API key has been revoked.');
    expect((await consume(0, secret, userId)).status).toBe(401);
  });

  it('a rotation with no grace ends the old secret on the other process at once', async () => {
    const userId = await newUser(db(), 'pro');
    const { apiKey, secret } = await admin(1, 'admin.apiKeys.create', { name: 'rotated', scopes: ['credits:write'] });
    await warm(secret, userId);

    const rotated = await admin(1, 'admin.apiKeys.rotate', { id: apiKey.id, graceMinutes: 0 });
    const refused = await consume(0, secret, userId);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/^This API key secret was replaced by a rotation and stopped working at .+; use the new secret\.$/);
    expect((await consume(0, rotated.secret, userId)).status).toBe(200);
    expect((await consume(1, rotated.secret, userId)).status).toBe(200);
  });

  it('a scope removed on one server process is refused on the other at once, and restored at once', async () => {
    const userId = await newUser(db(), 'pro');
    const { apiKey, secret } = await admin(0, 'admin.apiKeys.create', { name: 'rescoped', scopes: ['credits:read', 'credits:write'] });
    await warm(secret, userId);

    await admin(0, 'admin.apiKeys.update', { id: apiKey.id, name: 'rescoped', scopes: ['credits:read'] });
    const refused = await consume(1, secret, userId);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('This API key lacks the credits:write scope.');

    await admin(1, 'admin.apiKeys.update', { id: apiKey.id, name: 'rescoped', scopes: ['credits:write'] });
    expect((await consume(0, secret, userId)).status).toBe(200);
    expect((await consume(1, secret, userId)).status).toBe(200);
  });

  it('calls counted on both processes reach the daily row within about a second', async () => {
    const userId = await newUser(db(), 'pro');
    const { apiKey, secret } = await admin(0, 'admin.apiKeys.create', { name: 'counted twice', scopes: ['credits:write'] });
    await warm(secret, userId);
    // Four calls in warm(), two on each process.
    await waitFor(async () => (await usageOf(apiKey.id)) === 4, { what: 'the counts of both processes' });
  });

  it('a server that stops writes the calls it counted before it exits', async () => {
    const userId = await newUser(db(), 'pro');
    const { apiKey, secret } = await admin(0, 'admin.apiKeys.create', { name: 'counted at shutdown', scopes: ['credits:write'] });
    const calls = await Promise.all(Array.from({ length: 10 }, () => consume(1, secret, userId)));
    expect(calls.map((c) => c.status)).toEqual(Array(10).fill(200));
    expect(await servers[1]!.stop('SIGTERM')).toBe(0);
    expect(await usageOf(apiKey.id)).toBe(10);
  });
});
