import { afterAll, beforeAll, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app';
import { apiKeyCaller, createTestEnv, type TestEnv } from '../test/harness';
import { newUser } from '../test/ledger-helpers';

let env: TestEnv;
let app: FastifyInstance;
beforeAll(async () => {
  env = await createTestEnv();
  app = await buildApp(env.deps);
});
afterAll(async () => { await app.close(); await env.close(); });

it('probe', async () => {
  const { secret } = await apiKeyCaller(env.deps, ['credits:read', 'credits:write', 'enhance', 'users:write']);
  const userId = await newUser(env.deps.dbHandle.db, 'plus');
  const h = { authorization: `Bearer ${secret}` };
  const show = async (label: string, p: Promise<{ statusCode: number; body: string }>) => {
    try { const r = await p; console.log(label, r.statusCode, r.body.slice(0, 300)); } catch (e) { console.log(label, 'THREW', (e as Error).message); }
  };
  await show('malformed', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: { ...h, 'content-type': 'application/json' }, payload: '{"userId":' }));
  await show('xml', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: { ...h, 'content-type': 'application/xml' }, payload: '<a/>' }));
  await show('text', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: { ...h, 'content-type': 'text/plain' }, payload: JSON.stringify({ userId: 'abc', tier: 'free' }) }));
  await show('form', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: { ...h, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' }));
  await show('multipart', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: { ...h, 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x\r\n' }));
  await show('big', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: { ...h, 'content-type': 'application/json' }, payload: JSON.stringify({ userId: 'x'.repeat(2_000_000), tier: 'free' }) }));
  await show('nul idem', app.inject({ method: 'POST', url: '/trpc/credits.consume', headers: h, payload: { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: 'abc\u0000defghij' } }));
  await show('nul email', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: h, payload: { userId: 'nulemail', tier: 'free', email: 'a\u0000b@c' } }));
  await show('nul login', app.inject({ method: 'POST', url: '/trpc/auth.login', payload: { email: 'a\u0000b@c', password: 'x' } }));
  await show('get malformed', app.inject({ method: 'GET', url: `/trpc/credits.balance?input=%7B`, headers: h }));
  await show('get bad pct', app.inject({ method: 'GET', url: `/trpc/credits.balance?input=%E0%A4%A`, headers: h }));
  await show('get mutation', app.inject({ method: 'GET', url: `/trpc/users.upsert`, headers: h }));
  await show('deep', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: { ...h, 'content-type': 'application/json' }, payload: '['.repeat(200000) + ']'.repeat(200000) }));
  await show('batch', app.inject({ method: 'POST', url: '/trpc/users.upsert,credits.consume?batch=1', headers: { ...h, 'content-type': 'application/json' }, payload: JSON.stringify({ 0: { userId: 'bb', tier: 'free' }, 1: {} }) }));
  await show('unknown', app.inject({ method: 'POST', url: '/trpc/nope.nope', headers: h, payload: {} }));
  await show('proto', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: { ...h, 'content-type': 'application/json' }, payload: '{"__proto__":{"tier":"pro"},"userId":"protox"}' }));
  await show('dupbody', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: { ...h, 'content-type': 'application/json' }, payload: '{"userId":"a1","tier":"free","tier":"pro"}' }));
  await show('bearer junk', app.inject({ method: 'POST', url: '/trpc/users.upsert', headers: { authorization: 'Bearer \u00ff\u00fe' }, payload: {} }));
});
