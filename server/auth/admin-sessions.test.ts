import { TRPCError } from '@trpc/server';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextInner } from '../trpc/context';
import { createCaller, createTestEnv, publicCaller, uniqueId, type TestEnv } from '../test/harness';
import { createAdmin } from './admins';
import { cliActor } from './audit';
import { adminSessions, auditLog } from './tables';
import { sha256 } from './tokens';

let env: TestEnv;
const db = () => env.deps.dbHandle.db;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

const password = 'a long enough password';
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e: TRPCError) => e.code,
  );

async function signIn(email: string, address: string, userAgent: string) {
  let token = '';
  let cleared = 0;
  const cookies = { setSession: (t: string) => (token = t), clearSession: () => void cleared++ };
  await createCaller(createContextInner(env.deps, { cookies, address, userAgent })).auth.login({ email, password });
  return { token, cleared: () => cleared, caller: createCaller(createContextInner(env.deps, { sessionToken: token, cookies, address, userAgent })) };
}

describe('[AUTH] an admin’s own sessions', () => {
  it('lists only the admin’s own open sessions with address, user agent and which is current', async () => {
    const email = `${uniqueId('me')}@example.com`;
    const other = `${uniqueId('other')}@example.com`;
    for (const e of [email, other]) await createAdmin(db(), cliActor, { email: e, role: 'analyst', password });
    const laptop = await signIn(email, '10.1.0.1', 'Laptop Firefox');
    await signIn(email, '10.1.0.2', 'Phone Safari');
    await signIn(other, '10.1.0.3', 'Someone else');

    const list = await laptop.caller.auth.sessions.list();
    expect(list.map((s) => ({ ip: s.ip, userAgent: s.userAgent, current: s.current })).sort((a, b) => a.ip!.localeCompare(b.ip!))).toEqual([
      { ip: '10.1.0.1', userAgent: 'Laptop Firefox', current: true },
      { ip: '10.1.0.2', userAgent: 'Phone Safari', current: false },
    ]);
    // The listed id is a handle, not the token nor its hash.
    expect(JSON.stringify(list)).not.toContain(laptop.token);
    expect(JSON.stringify(list)).not.toContain(sha256(laptop.token));
    for (const s of list) expect(Date.parse(s.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(s.createdAt) - 1_000);
  });

  it('revoking another session ends it at once and is audited; the current one stays', async () => {
    const email = `${uniqueId('rev')}@example.com`;
    await createAdmin(db(), cliActor, { email, role: 'analyst', password });
    const laptop = await signIn(email, '10.2.0.1', 'Laptop');
    const phone = await signIn(email, '10.2.0.2', 'Phone');
    const phoneHandle = (await laptop.caller.auth.sessions.list()).find((s) => !s.current)!.id;

    expect(await laptop.caller.auth.sessions.revoke({ id: phoneHandle })).toEqual({ ok: true, current: false });
    expect(await codeOf(phone.caller.auth.me())).toBe('UNAUTHORIZED');
    expect(
      await db()
        .select()
        .from(adminSessions)
        .where(eq(adminSessions.id, sha256(phone.token))),
    ).toEqual([]);
    expect(await codeOf(laptop.caller.auth.me())).toBe('OK');
    expect(laptop.cleared()).toBe(0);
    const entries = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'admin.session.revoke'), eq(auditLog.actorLabel, email)));
    expect(entries).toHaveLength(1);
  });

  it('revoking the current session signs it out and clears the cookie', async () => {
    const email = `${uniqueId('self')}@example.com`;
    await createAdmin(db(), cliActor, { email, role: 'admin', password });
    const s = await signIn(email, '10.3.0.1', 'Laptop');
    const mine = (await s.caller.auth.sessions.list()).find((x) => x.current)!.id;
    expect(await s.caller.auth.sessions.revoke({ id: mine })).toEqual({ ok: true, current: true });
    expect(s.cleared()).toBe(1);
    expect(await codeOf(s.caller.auth.me())).toBe('UNAUTHORIZED');
  });

  it('another admin’s session cannot be revoked: NOT_FOUND, and it stays open', async () => {
    const [a, b] = [`${uniqueId('a')}@example.com`, `${uniqueId('b')}@example.com`];
    for (const e of [a, b]) await createAdmin(db(), cliActor, { email: e, role: 'admin', password });
    const sa = await signIn(a, '10.4.0.1', 'A');
    const sb = await signIn(b, '10.4.0.2', 'B');
    const bHandle = (await sb.caller.auth.sessions.list())[0]!.id;
    expect(await codeOf(sa.caller.auth.sessions.revoke({ id: bHandle }))).toBe('NOT_FOUND');
    expect(await codeOf(sb.caller.auth.me())).toBe('OK');
  });

  it('a session’s last-seen time moves when it is used after more than a minute', async () => {
    const email = `${uniqueId('seen')}@example.com`;
    await createAdmin(db(), cliActor, { email, role: 'analyst', password });
    const s = await signIn(email, '10.5.0.1', 'Laptop');
    const old = new Date(Date.now() - 10 * 60_000);
    await db()
      .update(adminSessions)
      .set({ lastSeenAt: old })
      .where(eq(adminSessions.id, sha256(s.token)));
    await s.caller.auth.me();
    const [row] = await db()
      .select()
      .from(adminSessions)
      .where(eq(adminSessions.id, sha256(s.token)));
    expect(row!.lastSeenAt.getTime()).toBeGreaterThan(old.getTime() + 5 * 60_000);
  });

  it('no session, no list', async () => {
    expect(await codeOf(publicCaller(env.deps).auth.sessions.list())).toBe('UNAUTHORIZED');
  });
});
