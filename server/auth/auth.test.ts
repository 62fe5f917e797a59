import { TRPCError } from '@trpc/server';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextInner } from '../trpc/context';
import { createTestEnv, createCaller, publicCaller, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { createAdmin } from './admins';
import { cliActor } from './audit';
import { adminSessions, admins, auditLog } from './tables';
import { LoginThrottle } from './login-throttle';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

const password = 'a long enough password';

async function newAdmin(role: 'admin' | 'analyst' = 'admin') {
  const email = `${uniqueId(role)}@example.com`;
  await createAdmin(env.deps.dbHandle.db, cliActor, { email, role, password });
  return email;
}

async function codeOf(p: Promise<unknown>) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return (err as TRPCError).code;
}

describe('[AUTH] admin sign-in', () => {
  it('a correct password opens a session and sets the cookie', async () => {
    const email = await newAdmin();
    const set: string[] = [];
    const me = await publicCaller(env.deps, { setSession: (token) => set.push(token), clearSession: () => {} }).auth.login({ email, password });
    expect(me.email).toBe(email);
    expect(set).toHaveLength(1);
    const caller = createCaller(createContextInner(env.deps, { sessionToken: set[0]! }));
    expect((await caller.auth.me()).email).toBe(email);
  });

  it('a wrong password is refused and opens no session', async () => {
    const email = await newAdmin();
    expect(await codeOf(publicCaller(env.deps).auth.login({ email, password: 'wrong password!' }))).toBe('UNAUTHORIZED');
    const sessions = await env.deps.dbHandle.db.select().from(adminSessions).innerJoin(admins, eq(admins.id, adminSessions.adminId)).where(eq(admins.email, email));
    expect(sessions).toHaveLength(0);
  });

  it('an expired session is refused', async () => {
    const { caller, token } = await signedInCaller(env.deps, 'admin');
    expect((await caller.auth.me()).role).toBe('admin');
    const { sha256 } = await import('./tokens');
    await env.deps.dbHandle.db
      .update(adminSessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(adminSessions.id, sha256(token)));
    expect(await codeOf(caller.auth.me())).toBe('UNAUTHORIZED');
  });

  it('a disabled admin cannot sign in and loses open sessions', async () => {
    const { caller: root } = await signedInCaller(env.deps, 'admin');
    const { caller, admin } = await signedInCaller(env.deps, 'admin');
    await root.admin.admins.update({ id: admin.id, disabled: true });
    expect(await codeOf(caller.auth.me())).toBe('UNAUTHORIZED');
  });

  it('logout ends the session', async () => {
    const { caller } = await signedInCaller(env.deps, 'analyst');
    await caller.auth.logout();
    expect(await codeOf(caller.auth.me())).toBe('UNAUTHORIZED');
  });
});

describe('[AUTH] roles', () => {
  it('no session is refused with UNAUTHORIZED', async () => {
    expect(await codeOf(publicCaller(env.deps).admin.apiKeys.list())).toBe('UNAUTHORIZED');
  });

  it('an analyst calling an admin mutation gets FORBIDDEN and nothing is written', async () => {
    const { caller } = await signedInCaller(env.deps, 'analyst');
    const before = (await env.deps.dbHandle.db.select().from(auditLog)).length;
    expect(await codeOf(caller.admin.apiKeys.create({ name: 'nope', scopes: ['enhance'] }))).toBe('FORBIDDEN');
    expect(await codeOf(caller.admin.admins.create({ email: 'x@example.com', role: 'admin', password: 'long password 123' }))).toBe('FORBIDDEN');
    expect((await env.deps.dbHandle.db.select().from(auditLog)).length).toBe(before);
  });

  it('every admin mutation writes the audit log with who, before and after', async () => {
    const { caller, admin } = await signedInCaller(env.deps, 'admin');
    const created = await caller.admin.admins.create({ email: `${uniqueId('a')}@example.com`, role: 'analyst', password: 'long password 123' });
    await caller.admin.admins.update({ id: created.id, role: 'admin' });
    const rows = await env.deps.dbHandle.db.select().from(auditLog).where(eq(auditLog.targetId, created.id));
    const update = rows.find((r) => r.action === 'admin.update')!;
    expect(update.actorAdminId).toBe(admin.id);
    expect(update.before).toMatchObject({ role: 'analyst' });
    expect(update.after).toMatchObject({ role: 'admin' });
    expect(JSON.stringify(rows.map((r) => [r.before, r.after]))).not.toContain('argon2');
  });
});

describe('[AUTH] login throttling', () => {
  it('repeated failures for an email answer TOO_MANY_REQUESTS with a retry time, even with the right password', async () => {
    const email = await newAdmin();
    const caller = publicCaller(env.deps);
    for (let i = 0; i < env.deps.config.LOGIN_MAX_FAILURES; i++) {
      expect(await codeOf(caller.auth.login({ email, password: `wrong-${i}` }))).toBe('UNAUTHORIZED');
    }
    const err = await caller.auth.login({ email, password }).catch((e: TRPCError) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('TOO_MANY_REQUESTS');
    expect((err as TRPCError).message).toMatch(/Try again in \d+ seconds/);
  });

  it('repeated failures from one address are throttled across emails, and the count is shared through Redis', async () => {
    const throttle = new LoginThrottle({ maxFailures: 2, windowSeconds: 60, redis: env.deps.redis, prefix: env.redisPrefix });
    const sibling = new LoginThrottle({ maxFailures: 2, windowSeconds: 60, redis: env.deps.redis, prefix: env.redisPrefix });
    const wrong = async () => false;
    for (let i = 0; i < 8; i++) await throttle.attempt({ scope: 'login', subject: `${uniqueId()}@example.com`, address: '192.0.2.7' }, wrong);
    let checked = false;
    const right = async () => (checked = true);
    await expect(sibling.attempt({ scope: 'login', subject: 'fresh@example.com', address: '192.0.2.7' }, right)).rejects.toMatchObject({ reason: 'TOO_MANY_REQUESTS' });
    expect(checked).toBe(false);
    await expect(sibling.attempt({ scope: 'login', subject: 'fresh@example.com', address: '192.0.2.8' }, right)).resolves.toEqual({ ok: true });
  });
});

describe('[AUTH] change password', () => {
  it('needs the current password, ends the other sessions, and the new password works', async () => {
    const email = await newAdmin('analyst');
    const first = await publicCaller(env.deps, { setSession: () => {}, clearSession: () => {} }).auth.login({ email, password });
    expect(first.email).toBe(email);
    const tokens: string[] = [];
    const jar = { setSession: (t: string) => tokens.push(t), clearSession: () => {} };
    await publicCaller(env.deps, jar).auth.login({ email, password });
    await publicCaller(env.deps, jar).auth.login({ email, password });
    const [keep, other] = tokens.map((t) => createCaller(createContextInner(env.deps, { sessionToken: t })));
    expect(await codeOf(keep!.auth.changePassword({ currentPassword: 'not it', newPassword: 'a brand new password' }))).toBe('BAD_REQUEST');
    await keep!.auth.changePassword({ currentPassword: password, newPassword: 'a brand new password' });
    expect((await keep!.auth.me()).email).toBe(email);
    expect(await codeOf(other!.auth.me())).toBe('UNAUTHORIZED');
    expect(await codeOf(publicCaller(env.deps).auth.login({ email, password }))).toBe('UNAUTHORIZED');
    expect((await publicCaller(env.deps).auth.login({ email, password: 'a brand new password' })).email).toBe(email);
  });
});
