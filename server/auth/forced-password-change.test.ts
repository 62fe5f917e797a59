import { TRPCError } from '@trpc/server';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextInner } from '../trpc/context';
import { createCaller, createTestEnv, publicCaller, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { bootstrapAdmin } from './bootstrap-admin';
import { admins, apiKeys, auditLog } from './tables';

let env: TestEnv;
let admin: Awaited<ReturnType<typeof signedInCaller>>;
const db = () => env.deps.dbHandle.db;
beforeAll(async () => {
  env = await createTestEnv();
  admin = await signedInCaller(env.deps, 'admin');
});
afterAll(() => env.close());

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: TRPCError) => ({ code: e.code, reason: (e.cause as { reason?: string } | undefined)?.reason ?? e.code }),
  );

/** Signs in through auth.login and returns a caller holding the new session's cookie. */
async function signIn(email: string, password: string) {
  let token = '';
  const me = await publicCaller(env.deps, { setSession: (t) => (token = t), clearSession: () => {} }).auth.login({ email, password });
  return { me, caller: createCaller(createContextInner(env.deps, { sessionToken: token })) };
}

describe('[AUTH] forced password change', () => {
  it('an account created without a password answers a generated one once and must change it', async () => {
    const email = `${uniqueId('new')}@example.com`;
    const created = await admin.caller.admin.admins.create({ email, role: 'admin' });
    expect(created.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(created.mustChangePassword).toBe(true);
    expect((await admin.caller.admin.admins.list()).find((a) => a.email === email)).not.toHaveProperty('generatedPassword');
    const [row] = await db().select().from(admins).where(eq(admins.email, email));
    expect(row!.mustChangePassword).toBe(true);
    // The audit trail records the account, never its password.
    const [entry] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'admin.create'), eq(auditLog.targetId, row!.id)));
    expect(entry!.after).toMatchObject({ email, mustChangePassword: true });
    expect(JSON.stringify(entry!.after)).not.toContain(created.generatedPassword!);
  });

  it('until it changes the password the session may call only auth.me, auth.changePassword and auth.logout; then everything its role allows', async () => {
    const email = `${uniqueId('forced')}@example.com`;
    const { generatedPassword } = await admin.caller.admin.admins.create({ email, role: 'admin' });
    const { me, caller } = await signIn(email, generatedPassword!);
    expect(me.mustChangePassword).toBe(true);
    expect(await caller.auth.me()).toMatchObject({ email, mustChangePassword: true });

    const keysBefore = await db()
      .select({ n: sql<number>`count(*)::int` })
      .from(apiKeys);
    expect(await refusal(caller.admin.apiKeys.list())).toEqual({ code: 'FORBIDDEN', reason: 'PASSWORD_CHANGE_REQUIRED' });
    expect(await refusal(caller.admin.apiKeys.create({ name: 'sneaky', scopes: ['enhance'] }))).toEqual({ code: 'FORBIDDEN', reason: 'PASSWORD_CHANGE_REQUIRED' });
    expect(await refusal(caller.admin.dashboard())).toEqual({ code: 'FORBIDDEN', reason: 'PASSWORD_CHANGE_REQUIRED' });
    expect(await refusal(caller.auth.sessions.list())).toEqual({ code: 'FORBIDDEN', reason: 'PASSWORD_CHANGE_REQUIRED' });
    expect(await refusal(caller.auth.totp.begin())).toEqual({ code: 'FORBIDDEN', reason: 'PASSWORD_CHANGE_REQUIRED' });
    expect(
      await db()
        .select({ n: sql<number>`count(*)::int` })
        .from(apiKeys),
    ).toEqual(keysBefore);

    await caller.auth.changePassword({ currentPassword: generatedPassword!, newPassword: 'my very own password' });
    expect(await caller.auth.me()).toMatchObject({ mustChangePassword: false });
    expect(await refusal(caller.admin.apiKeys.list())).toBeNull();
    const [row] = await db().select().from(admins).where(eq(admins.email, email));
    expect(row!.mustChangePassword).toBe(false);
    // The new password is the one that signs in now.
    expect((await signIn(email, 'my very own password')).me.mustChangePassword).toBe(false);
  });

  it('an account given a password with mustChangePassword must change it too; without the flag it need not', async () => {
    const flagged = `${uniqueId('flagged')}@example.com`;
    const plain = `${uniqueId('plain')}@example.com`;
    expect((await admin.caller.admin.admins.create({ email: flagged, role: 'analyst', password: 'a temporary password', mustChangePassword: true })).generatedPassword).toBeNull();
    await admin.caller.admin.admins.create({ email: plain, role: 'analyst', password: 'a temporary password' });
    const f = await signIn(flagged, 'a temporary password');
    expect(await refusal(f.caller.admin.dashboard())).toEqual({ code: 'FORBIDDEN', reason: 'PASSWORD_CHANGE_REQUIRED' });
    const p = await signIn(plain, 'a temporary password');
    expect(await refusal(p.caller.admin.dashboard())).toBeNull();
  });

  it('the first-start admin with a generated password must change it; one given ADMIN_PASSWORD need not', async () => {
    // bootstrapAdmin acts only on an empty admins table: a database of its own.
    const fresh = await createTestEnv();
    try {
      const boot = await bootstrapAdmin(fresh.deps.dbHandle.db, { email: 'boot@example.com' });
      expect(boot?.generatedPassword).toBeTruthy();
      const [row] = await fresh.deps.dbHandle.db.select().from(admins).where(eq(admins.email, 'boot@example.com'));
      expect(row!.mustChangePassword).toBe(true);
    } finally {
      await fresh.close();
    }
    const given = await createTestEnv();
    try {
      expect(await bootstrapAdmin(given.deps.dbHandle.db, { email: 'boot@example.com', password: 'an operator chosen password' })).toEqual({ email: 'boot@example.com', generatedPassword: null });
      const [row] = await given.deps.dbHandle.db.select().from(admins).where(eq(admins.email, 'boot@example.com'));
      expect(row!.mustChangePassword).toBe(false);
    } finally {
      await given.close();
    }
  });
});
