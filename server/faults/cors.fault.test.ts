import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app';
import { apiKeyCaller, createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { newUser } from '../test/ledger-helpers';

/**
 * [CORS] A page on an origin CORS_ORIGINS does not name gets no Access-Control-* header from
 * anything; and even an allowed origin gets none from admin procedures (cookie-authenticated),
 * auth.*, API-key procedures, exports or /metrics — nor from a batch that mixes one in.
 */

const ALLOWED = 'https://app.example.com';
let env: TestEnv;
let app: FastifyInstance;
let origin: string;
let userId: string;
let token: string;
let sessionToken: string;
let apiKey: string;

beforeAll(async () => {
  env = await createTestEnv();
  app = await buildApp({ ...env.deps, config: { ...env.deps.config, CORS_ORIGINS: [ALLOWED] } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  userId = await newUser(env.deps.dbHandle.db, 'plus');
  token = env.deps.userTokens.mint(userId, 600).token;
  sessionToken = (await signedInCaller(env.deps, 'admin')).token;
  apiKey = (await apiKeyCaller(env.deps, ['credits:read', 'credits:write'])).secret;
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

const accessControl = (res: Response) => [...res.headers.keys()].filter((h) => h.startsWith('access-control-'));
const q = (input: unknown) => `?input=${encodeURIComponent(JSON.stringify(input))}`;

describe('[CORS] refused origins and procedures get no CORS headers', () => {
  const hostile = ['https://evil.example.com', 'https://app.example.com.evil.example.com', 'http://app.example.com', 'https://APP.example.com', 'null'];

  it.each(hostile)('origin %s: a preflight without any CORS header and no header on the call, though the server still answers it', async (from) => {
    const pre = await fetch(`${origin}/trpc/credits.balance${q({ userId })}`, {
      method: 'OPTIONS',
      headers: { origin: from, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(pre.status).not.toBe(204);
    expect(accessControl(pre)).toEqual([]);
    const call = await fetch(`${origin}/trpc/credits.balance${q({ userId })}`, { headers: { origin: from, authorization: `Bearer ${token}` } });
    expect(call.status).toBe(200);
    expect(accessControl(call)).toEqual([]);
  });

  it.each([
    ['an admin query (session cookie)', `/trpc/admin.dashboard${q({})}`, { cookie: `cd_session=${'x'}` }],
    ['auth.me', '/trpc/auth.me', {}],
    ['auth.login', '/trpc/auth.login', {}],
    ['an API-key procedure', '/trpc/credits.consume', {}],
    ['a batch mixing a browser procedure with an admin one', `/trpc/credits.balance,admin.dashboard?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { userId } }))}`, {}],
    ['a CSV export', '/export/ledger.csv', {}],
    ['/metrics', '/metrics', {}],
    ['/readyz', '/readyz', {}],
  ])('the allowed origin gets nothing from %s', async (_label, url, extra) => {
    for (const method of ['GET', 'POST']) {
      const pre = await fetch(`${origin}${url}`, {
        method: 'OPTIONS',
        headers: { origin: ALLOWED, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(accessControl(pre)).toEqual([]);
    }
    const call = await fetch(`${origin}${url}`, { headers: { origin: ALLOWED, ...extra } });
    expect(accessControl(call)).toEqual([]);
  });

  it('an admin session cookie sent cross-origin to an admin procedure is answered without CORS headers, so the page cannot read it', async () => {
    const res = await fetch(`${origin}/trpc/admin.dashboard`, { headers: { origin: ALLOWED, cookie: `cd_session=${sessionToken}` } });
    expect(res.status).toBe(200);
    expect(accessControl(res)).toEqual([]);
  });

  it('an API key used from the allowed origin on credits.consume gets no CORS header: keys belong on servers', async () => {
    const res = await fetch(`${origin}/trpc/credits.consume`, {
      method: 'POST',
      headers: { origin: ALLOWED, authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId, credits: 1, enhancementType: 'color', idempotencyKey: 'cors-fault-0001' }),
    });
    expect(accessControl(res)).toEqual([]);
  });

  it('with CORS_ORIGINS empty nobody gets CORS headers, the allowed origin of another install included', async () => {
    const plain = await buildApp(env.deps);
    await plain.listen({ host: '127.0.0.1', port: 0 });
    try {
      const at = `http://127.0.0.1:${(plain.server.address() as AddressInfo).port}`;
      const pre = await fetch(`${at}/trpc/credits.balance`, { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'GET' } });
      expect(accessControl(pre)).toEqual([]);
      expect(accessControl(await fetch(`${at}/trpc/credits.balance${q({ userId })}`, { headers: { origin: ALLOWED, authorization: `Bearer ${token}` } }))).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});
