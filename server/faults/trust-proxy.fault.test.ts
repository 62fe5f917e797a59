import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin } from '../auth/admins';
import { cliActor } from '../auth/audit';
import { adminSessions } from '../auth/tables';
import { loadConfig } from '../config';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { readAnswer, startLiveServer, type LiveServer } from './lib/live-server';

/**
 * [PROXY] X-Forwarded-For is believed only from the proxies TRUST_PROXY names: a caller rotating the
 * header neither escapes the per-address sign-in limit nor writes its choice into a session.
 */

let env: TestEnv;
let direct: LiveServer;
let behindProxy: LiveServer;
const db = () => env.deps.dbHandle.db;
const password = 'the right long password';

beforeAll(async () => {
  env = await createTestEnv();
  direct = await startLiveServer(env.deps);
  // The same deps behind a proxy on loopback, where this test's requests come from.
  const config = loadConfig({ ...env.env, TRUST_PROXY: '127.0.0.1/32' });
  behindProxy = await startLiveServer({ ...env.deps, config: { ...config, REDIS_PREFIX: env.deps.config.REDIS_PREFIX } });
});
afterAll(async () => {
  await direct?.close();
  await behindProxy?.close();
  await env?.close();
});

const reasonOf = (body: unknown) => (body as { error?: { data?: { reason?: string } } }).error?.data?.reason ?? 'OK';
const forwarded = (i: number) => ({ 'x-forwarded-for': `198.51.100.${i % 250}` });

async function sessionAddress(server: LiveServer, header: Record<string, string>) {
  const email = `${uniqueId('proxy')}@example.com`;
  const admin = await createAdmin(db(), cliActor, { email, role: 'admin', password });
  const res = await server.call('auth.login', { email, password }, { headers: header });
  expect(res.status).toBe(200);
  const [session] = await db().select().from(adminSessions).where(eq(adminSessions.adminId, admin.id));
  return session!.ip;
}

describe('[PROXY] no proxy is trusted by default', () => {
  it("a rotating X-Forwarded-For does not escape the per-address limit, and the session records the caller's own address", async () => {
    expect(await sessionAddress(direct, { 'x-forwarded-for': '203.0.113.77' })).toBe('127.0.0.1');
    const perAddress = env.deps.config.LOGIN_MAX_FAILURES * 4;
    const reasons = [];
    // Each guess for a fresh email and from a "new" address: only the per-address counter can stop them.
    for (let i = 0; i <= perAddress; i++) {
      const answer = await readAnswer(await direct.call('auth.login', { email: `${uniqueId('nobody')}@example.com`, password: 'wrong' }, { headers: forwarded(i) }));
      reasons.push(reasonOf(answer.body));
    }
    expect(reasons).toEqual([...Array(perAddress).fill('UNAUTHORIZED'), 'TOO_MANY_REQUESTS']);
  });
});

describe('[PROXY] TRUST_PROXY names the proxies to believe', () => {
  it("behind a trusted proxy the forwarded address is the client's", async () => {
    expect(await sessionAddress(behindProxy, { 'x-forwarded-for': '203.0.113.78' })).toBe('203.0.113.78');
  });

  it('TRUST_PROXY accepts addresses and CIDRs, and refuses anything else at start', () => {
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '::1']);
    expect(loadConfig({}).TRUST_PROXY).toEqual([]);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/40' })).toThrow(/TRUST_PROXY/);
  });
});
