import { TRPCError } from '@trpc/server';
import { and, eq, isNull } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextInner } from '../trpc/context';
import { createCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { createAdmin } from './admins';
import { cliActor } from './audit';
import { adminRecoveryCodes, admins, adminSessions } from './tables';

let env: TestEnv;
const db = () => env.deps.dbHandle.db;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

const password = 'a long enough password';
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: TRPCError) => ({ code: e.code, reason: (e.cause as { reason?: string } | undefined)?.reason ?? e.code }),
  );

/** A code for the step `offset` steps from now: the next step's code is valid now and was never used. */
const codeAt = (secret: string, offset = 0) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + offset * 30_000 });

/** A caller from its own address (each test its own, so per-address throttles do not meet). */
function callerAt(address: string, sessionToken?: string) {
  const tokens: string[] = [];
  const caller = createCaller(createContextInner(env.deps, { address, sessionToken, cookies: { setSession: (t) => tokens.push(t), clearSession: () => {} } }));
  return { caller, tokens };
}

/** A signed-in admin who has turned two-factor sign-in on; answers the secret and recovery codes. */
async function adminWithTotp(address: string) {
  const email = `${uniqueId('totp')}@example.com`;
  await createAdmin(db(), cliActor, { email, role: 'admin', password });
  const login = callerAt(address);
  await login.caller.auth.login({ email, password });
  const { caller } = callerAt(address, login.tokens[0]);
  const setup = await caller.auth.totp.begin();
  const { recoveryCodes } = await caller.auth.totp.confirm({ code: codeAt(setup.secret) });
  return { email, caller, secret: setup.secret, recoveryCodes };
}

const sessionsOf = async (email: string) =>
  (await db().select({ id: adminSessions.id }).from(adminSessions).innerJoin(admins, eq(admins.id, adminSessions.adminId)).where(eq(admins.email, email))).length;

describe('[AUTH] TOTP two-factor setup', () => {
  it('begin answers a secret and a QR code; the secret is stored sealed and never answered again', async () => {
    const email = `${uniqueId('setup')}@example.com`;
    await createAdmin(db(), cliActor, { email, role: 'analyst', password });
    const login = callerAt('10.9.0.1');
    await login.caller.auth.login({ email, password });
    const { caller } = callerAt('10.9.0.1', login.tokens[0]);
    const setup = await caller.auth.totp.begin();
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.otpauthUrl).toContain(`secret=${setup.secret}`);
    expect(setup.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    const [row] = await db().select().from(admins).where(eq(admins.email, email));
    expect(row!.totpSecret).not.toContain(setup.secret);
    expect(env.deps.secrets.decrypt(row!.totpSecret!)).toBe(setup.secret);
    // Not on until confirmed: signing in needs no code yet.
    expect(await caller.auth.totp.status()).toEqual({ enabled: false, enabledAt: null, recoveryCodesLeft: 0 });
    expect(await refusal(callerAt('10.9.0.1').caller.auth.login({ email, password }))).toBeNull();

    const wrong = codeAt(setup.secret) === '000000' ? '111111' : '000000';
    expect(await refusal(caller.auth.totp.confirm({ code: wrong }))).toEqual({ code: 'BAD_REQUEST', reason: 'BAD_REQUEST' });
    const { recoveryCodes } = await caller.auth.totp.confirm({ code: codeAt(setup.secret) });
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    const status = await caller.auth.totp.status();
    expect(status).toMatchObject({ enabled: true, recoveryCodesLeft: 10 });
    expect(JSON.stringify(status)).not.toContain(setup.secret);
    // Recovery codes are kept as hashes only.
    const stored = await db().select().from(adminRecoveryCodes).where(eq(adminRecoveryCodes.adminId, row!.id));
    expect(stored).toHaveLength(10);
    for (const code of recoveryCodes) expect(stored.map((r) => r.codeHash)).not.toContain(code);
    // A second setup while on is refused, so the live secret cannot be swapped from an open session.
    expect(await refusal(caller.auth.totp.begin())).toEqual({ code: 'CONFLICT', reason: 'CONFLICT' });
  });
});

describe('[AUTH] TOTP sign-in', () => {
  it('the right password alone answers SECOND_FACTOR_REQUIRED and opens no session; with the current code it signs in', async () => {
    const { email, secret } = await adminWithTotp('10.9.1.1');
    const before = await sessionsOf(email);
    const first = callerAt('10.9.1.1');
    expect(await refusal(first.caller.auth.login({ email, password }))).toEqual({ code: 'UNAUTHORIZED', reason: 'SECOND_FACTOR_REQUIRED' });
    expect(first.tokens).toEqual([]);
    expect(await sessionsOf(email)).toBe(before);
    // The confirm used this step's code; the next step's is valid (one step of drift) and unused.
    const me = await first.caller.auth.login({ email, password, code: codeAt(secret, 1) });
    expect(me.email).toBe(email);
    expect(first.tokens).toHaveLength(1);
    expect(await sessionsOf(email)).toBe(before + 1);
  });

  it('a code is accepted once: signing in again with the same code is refused', async () => {
    const { email, secret } = await adminWithTotp('10.9.2.1');
    const code = codeAt(secret, 1);
    expect(await refusal(callerAt('10.9.2.1').caller.auth.login({ email, password, code }))).toBeNull();
    expect(await refusal(callerAt('10.9.2.1').caller.auth.login({ email, password, code }))).toEqual({ code: 'UNAUTHORIZED', reason: 'SECOND_FACTOR_REQUIRED' });
  });

  it('wrong codes are refused and throttled: past the limit even the right code answers TOO_MANY_REQUESTS, and no session opens', async () => {
    const { email, secret } = await adminWithTotp('10.9.3.1');
    const before = await sessionsOf(email);
    const right = codeAt(secret, 1);
    const wrong = right === '123456' ? '654321' : '123456';
    for (let i = 0; i < env.deps.config.LOGIN_MAX_FAILURES; i++) {
      expect(await refusal(callerAt('10.9.3.1').caller.auth.login({ email, password, code: wrong }))).toEqual({ code: 'UNAUTHORIZED', reason: 'SECOND_FACTOR_REQUIRED' });
    }
    expect(await refusal(callerAt('10.9.3.1').caller.auth.login({ email, password, code: right }))).toEqual({ code: 'TOO_MANY_REQUESTS', reason: 'TOO_MANY_REQUESTS' });
    // The throttle is per admin: another address is refused too.
    expect(await refusal(callerAt('10.9.3.2').caller.auth.login({ email, password, code: right }))).toEqual({ code: 'TOO_MANY_REQUESTS', reason: 'TOO_MANY_REQUESTS' });
    expect(await sessionsOf(email)).toBe(before);
  });

  it('a recovery code signs in once (any case, with or without its hyphen), then is refused', async () => {
    const { email, recoveryCodes, caller } = await adminWithTotp('10.9.4.1');
    const code = recoveryCodes[3]!;
    expect(await refusal(callerAt('10.9.4.1').caller.auth.login({ email, password, code: code.toUpperCase().replace('-', '') }))).toBeNull();
    expect(await refusal(callerAt('10.9.4.1').caller.auth.login({ email, password, code }))).toEqual({ code: 'UNAUTHORIZED', reason: 'SECOND_FACTOR_REQUIRED' });
    expect((await caller.auth.totp.status()).recoveryCodesLeft).toBe(9);
    const [admin] = await db().select().from(admins).where(eq(admins.email, email));
    const unused = await db()
      .select()
      .from(adminRecoveryCodes)
      .where(and(eq(adminRecoveryCodes.adminId, admin!.id), isNull(adminRecoveryCodes.usedAt)));
    expect(unused).toHaveLength(9);
  });

  it('turning it off needs the password; afterwards the password alone signs in and the secret and codes are gone', async () => {
    const { email, caller } = await adminWithTotp('10.9.5.1');
    expect(await refusal(caller.auth.totp.disable({ password: 'not my password' }))).toEqual({ code: 'BAD_REQUEST', reason: 'BAD_REQUEST' });
    expect((await caller.auth.totp.status()).enabled).toBe(true);
    await caller.auth.totp.disable({ password });
    expect(await refusal(callerAt('10.9.5.1').caller.auth.login({ email, password }))).toBeNull();
    const [row] = await db().select().from(admins).where(eq(admins.email, email));
    expect(row).toMatchObject({ totpSecret: null, totpEnabledAt: null });
    expect(await db().select().from(adminRecoveryCodes).where(eq(adminRecoveryCodes.adminId, row!.id))).toEqual([]);
  });
});
