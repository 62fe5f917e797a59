import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app';
import { ConfigError, loadConfig } from '../config';
import { mediaDir } from '../deps';
import { createTestEnv, type TestEnv } from '../test/harness';
import { newUser } from '../test/ledger-helpers';
import { appRouter } from './root';
import { BROWSER_PROCEDURES } from './browser-cors';

const PRODUCT = 'https://app.example.com';

let env: TestEnv;
let app: FastifyInstance;
let origin: string;
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv();
  app = await buildApp({ ...env.deps, config: { ...env.deps.config, CORS_ORIGINS: [PRODUCT, 'http://localhost:5173'] } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

const preflight = (url: string, from: string, method = 'GET') =>
  fetch(`${origin}${url}`, {
    method: 'OPTIONS',
    headers: { origin: from, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
  });

describe('[CORS] CORS_ORIGINS may call the user-token procedures from a browser', () => {
  it('the browser procedures all exist and none is an admin procedure', () => {
    const all = Object.keys(appRouter._def.procedures);
    expect([...BROWSER_PROCEDURES].filter((p) => !all.includes(p))).toEqual([]);
    expect([...BROWSER_PROCEDURES].filter((p) => p.startsWith('admin.') || p.startsWith('auth.'))).toEqual([]);
  });

  it('an allowed origin gets a preflight allowing Authorization and Content-Type, then reads with a user token', async () => {
    const userId = await newUser(db(), 'plus');
    const pre = await preflight('/trpc/credits.balance', PRODUCT);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(PRODUCT);
    expect(pre.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type');
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, POST');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();

    const token = env.deps.userTokens.mint(userId, 600).token;
    const res = await fetch(`${origin}/trpc/credits.balance?input=${encodeURIComponent(JSON.stringify({ userId }))}`, { headers: { origin: PRODUCT, authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(PRODUCT);
    expect(res.headers.get('vary')).toMatch(/origin/i);
    expect((await res.json()).result.data.userId).toBe(userId);
  });

  it('a POST (users.notifications.markRead) and a GET batch of browser procedures are allowed; a refusal is readable by the page too', async () => {
    const userId = await newUser(db(), 'plus');
    const token = env.deps.userTokens.mint(userId, 600).token;
    expect((await preflight('/trpc/users.notifications.markRead', PRODUCT, 'POST')).headers.get('access-control-allow-origin')).toBe(PRODUCT);
    const mark = await fetch(`${origin}/trpc/users.notifications.markRead`, {
      method: 'POST',
      headers: { origin: PRODUCT, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId, upTo: '1' }),
    });
    expect(mark.status).toBe(200);
    expect(mark.headers.get('access-control-allow-origin')).toBe(PRODUCT);
    const batch = `/trpc/credits.balance,users.notifications?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { userId }, 1: { userId } }))}`;
    expect((await preflight(batch, PRODUCT)).headers.get('access-control-allow-origin')).toBe(PRODUCT);
    const other = await fetch(`${origin}/trpc/credits.balance?input=${encodeURIComponent(JSON.stringify({ userId: 'someone-else' }))}`, {
      headers: { origin: PRODUCT, authorization: `Bearer ${token}` },
    });
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBe(PRODUCT);
  });

  it('/media answers Cross-Origin-Resource-Policy: cross-origin so product pages can show results', async () => {
    writeFileSync(path.join(mediaDir(env.deps.config), 'corp-probe.png'), Buffer.from('89504e47', 'hex'));
    const res = await fetch(`${origin}/media/corp-probe.png`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    // Everything else keeps helmet's same-origin.
    expect((await fetch(`${origin}/livez`)).headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });
});

describe('[CORS] CORS_ORIGINS is validated at start', () => {
  it.each([
    ['https://app.example.com/', 'a trailing slash'],
    ['https://app.example.com/path', 'a path'],
    ['*', 'a wildcard'],
    ['app.example.com', 'no scheme'],
    ['ftp://app.example.com', 'another scheme'],
  ])('refuses %s (%s) naming the variable', (value) => {
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(/^Invalid configuration: CORS_ORIGINS expects comma-separated origins/);
  });

  it('takes a comma-separated list of exact origins, and none by default', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' }).CORS_ORIGINS).toEqual(['https://a.example.com', 'http://localhost:5173']);
    expect(loadConfig({}).CORS_ORIGINS).toEqual([]);
  });
});
