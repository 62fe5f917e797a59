import { eq } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin } from '../auth/admins';
import { cliActor } from '../auth/audit';
import { adminSessions, admins } from '../auth/tables';
import { beginTotp, confirmTotp } from '../auth/totp';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { answerProblem } from './lib/http-shape';
import { readAnswer, sessionCookieOf, startLiveServer, type LiveServer } from './lib/live-server';

/**
 * [GUESSING] Passwords are guessed at most LOGIN_MAX_FAILURES times per window however the guesses
 * arrive: in parallel, batched into one request, or through a signed-in session's changePassword;
 * and so are two-factor codes after a right password.
 */

let env: TestEnv;
let server: LiveServer;
const db = () => env.deps.dbHandle.db;
const password = 'the right long password';
const limit = () => env.deps.config.LOGIN_MAX_FAILURES;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startLiveServer(env.deps);
});
afterAll(async () => {
  await server?.close();
  await env?.close();
});

async function newAdmin() {
  const email = `${uniqueId('guess')}@example.com`;
  const admin = await createAdmin(db(), cliActor, { email, role: 'admin', password });
  return { email, id: admin.id };
}

const sessionsOf = async (adminId: string) => (await db().select().from(adminSessions).where(eq(adminSessions.adminId, adminId))).length;
const reasonOf = (body: unknown) => (body as { error?: { data?: { reason?: string } } }).error?.data?.reason ?? 'OK';

/** A batched mutation: `/trpc/a,a,…?batch=1` with the inputs keyed by position. */
function postBatch(procedure: string, inputs: unknown[], headers: Record<string, string> = {}) {
  const paths = inputs.map(() => procedure).join(',');
  return fetch(`${server.origin}/trpc/${paths}?batch=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(Object.fromEntries(inputs.map((input, i) => [String(i), input]))),
  });
}

describe('[GUESSING] login', () => {
  // Requests sent together over separate connections are handled in any order, so the right
  // password follows the parallel guesses once they are all answered (counted), not merely sent last.
  it('39 parallel wrong logins for one email check at most the limit of passwords; the right one after them does not sign in', async () => {
    const { email, id } = await newAdmin();
    const guesses = Array.from({ length: 39 }, (_, i) => ({ email, password: `wrong guess ${i}` }));
    const answers = await Promise.all(guesses.map((g) => server.call('auth.login', g).then(readAnswer)));
    for (const a of answers) expect(answerProblem(a)).toBeNull();
    const reasons = answers.map((a) => reasonOf(a.body));
    expect(reasons.filter((r) => r === 'UNAUTHORIZED').length).toBeLessThanOrEqual(limit());
    expect(reasons.filter((r) => r === 'TOO_MANY_REQUESTS').length).toBeGreaterThanOrEqual(39 - limit());
    expect(reasons.filter((r) => r !== 'UNAUTHORIZED' && r !== 'TOO_MANY_REQUESTS')).toEqual([]);
    expect(reasonOf((await readAnswer(await server.call('auth.login', { email, password }))).body)).toBe('TOO_MANY_REQUESTS');
    expect(await sessionsOf(id)).toBe(0);
  });

  it('a batch of 30 logins is refused in tRPC error shape and checks no password', async () => {
    const { email, id } = await newAdmin();
    const inputs = [...Array.from({ length: 29 }, (_, i) => ({ email, password: `wrong ${i}` })), { email, password }];
    const answer = await readAnswer(await postBatch('auth.login', inputs));
    expect(answer.status).toBe(400);
    expect(answerProblem(answer)).toBeNull();
    expect(await sessionsOf(id)).toBe(0);
    // No guess was counted: the limit's worth of wrong passwords is still answered UNAUTHORIZED.
    for (let i = 0; i < limit(); i++) expect(reasonOf((await readAnswer(await server.call('auth.login', { email, password: `w${i}` }))).body)).toBe('UNAUTHORIZED');
  });

  it('a batch of 200 logins without any credential is refused at once; so is a single auth call in a batch', async () => {
    const inputs = Array.from({ length: 200 }, (_, i) => ({ email: `${uniqueId('nobody')}-${i}@example.com`, password: 'anything at all' }));
    const started = performance.now();
    const answer = await readAnswer(await postBatch('auth.login', inputs));
    expect(answer.status).toBe(400);
    expect(answerProblem(answer)).toBeNull();
    // 200 argon2 verifications take seconds of CPU; a refusal before any takes milliseconds.
    expect(performance.now() - started).toBeLessThan(1_000);
    const mixed = await fetch(`${server.origin}/trpc/auth.me,auth.me?batch=1&input=${encodeURIComponent('{}')}`);
    const mixedAnswer = await readAnswer(mixed);
    expect(mixedAnswer.status).toBe(400);
    expect(answerProblem(mixedAnswer)).toBeNull();
    const single = await readAnswer(await postBatch('auth.login', [{ email: 'a@example.com', password: 'x' }]));
    expect(single.status).toBe(400);
    expect(answerProblem(single)).toBeNull();
  });

  it('any batch is capped at 20 calls: 21 are refused in tRPC error shape with nothing run, 20 are served', async () => {
    const get = (n: number) => {
      const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), { userId: `nobody-${i}` }]));
      return fetch(`${server.origin}/trpc/${Array(n).fill('credits.balance').join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`);
    };
    const over = await readAnswer(await get(21));
    expect(over.status).toBe(400);
    expect(answerProblem(over)).toBeNull();
    const atCap = await readAnswer(await get(20));
    expect(Array.isArray(atCap.body)).toBe(true);
    expect((atCap.body as unknown[]).map(reasonOf)).toEqual(Array(20).fill('UNAUTHORIZED'));
  });
});

describe('[GUESSING] changePassword', () => {
  async function signIn() {
    const { email, id } = await newAdmin();
    const res = await server.call('auth.login', { email, password });
    expect(res.status).toBe(200);
    return { email, id, cookie: `cd_session=${sessionCookieOf(res)!}` };
  }
  const change = (cookie: string, currentPassword: string) =>
    server.call('auth.changePassword', { currentPassword, newPassword: 'a brand new long password' }, { headers: { cookie } }).then(readAnswer);

  it('repeated wrong current passwords end the session, and the password stays unchanged', async () => {
    const { id, cookie } = await signIn();
    const before = (await db().select().from(admins).where(eq(admins.id, id)))[0]!.passwordHash;
    const reasons = [];
    for (let i = 0; i < limit(); i++) reasons.push(reasonOf((await change(cookie, `wrong current ${i}`)).body));
    expect(reasons).toEqual([...Array(limit() - 1).fill('BAD_REQUEST'), 'UNAUTHORIZED']);
    expect(await sessionsOf(id)).toBe(0);
    expect(reasonOf((await change(cookie, password)).body)).toBe('UNAUTHORIZED');
    expect((await db().select().from(admins).where(eq(admins.id, id)))[0]!.passwordHash).toBe(before);
  });

  it('29 parallel wrong guesses from one session check at most the limit; the right one after them changes nothing', async () => {
    const { id, cookie } = await signIn();
    const before = (await db().select().from(admins).where(eq(admins.id, id)))[0]!.passwordHash;
    const answers = await Promise.all(Array.from({ length: 29 }, (_, i) => change(cookie, `wrong ${i}`)));
    for (const a of answers) expect(answerProblem(a)).toBeNull();
    const reasons = answers.map((a) => reasonOf(a.body));
    expect(reasons.filter((r) => r === 'BAD_REQUEST').length).toBeLessThanOrEqual(limit());
    expect(reasons).not.toContain('OK');
    expect(['UNAUTHORIZED', 'TOO_MANY_REQUESTS']).toContain(reasonOf((await change(cookie, password)).body));
    expect((await db().select().from(admins).where(eq(admins.id, id)))[0]!.passwordHash).toBe(before);
    expect(await sessionsOf(id)).toBe(0);
  });
});

describe('[GUESSING] two-factor codes', () => {
  /** An admin with TOTP on, set up through the domain functions; answers the secret. */
  async function adminWithTotp() {
    const { email, id } = await newAdmin();
    const session = { id, email, role: 'admin' as const, sessionId: 'setup', mustChangePassword: false };
    const { secret } = await beginTotp(db(), env.deps.secrets, session);
    await confirmTotp(db(), env.deps.secrets, env.deps.throttle, session, { code: new TOTP({ secret: Secret.fromBase32(secret) }).generate(), address: '192.0.2.50' });
    return { email, id, secret };
  }

  it('29 parallel sign-ins with the right password and wrong codes check at most the limit of codes; the right code after them does not sign in', async () => {
    const { email, id, secret } = await adminWithTotp();
    const right = new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + 30_000 });
    const wrong = Array.from({ length: 29 }, (_, i) => String((Number(right) + i + 1) % 1_000_000).padStart(6, '0'));
    const answers = await Promise.all(wrong.map((code) => server.call('auth.login', { email, password, code }).then(readAnswer)));
    for (const a of answers) expect(answerProblem(a)).toBeNull();
    const reasons = answers.map((a) => reasonOf(a.body));
    expect(reasons.filter((r) => r === 'SECOND_FACTOR_REQUIRED').length).toBeLessThanOrEqual(limit());
    expect(reasons).not.toContain('OK');
    expect(reasonOf((await readAnswer(await server.call('auth.login', { email, password, code: right }))).body)).toBe('TOO_MANY_REQUESTS');
    expect(await sessionsOf(id)).toBe(0);
  });

  it('a batch of code checks (auth.totp.confirm, auth.sessions.revoke) is refused before any runs', async () => {
    for (const procedure of ['auth.totp.confirm', 'auth.sessions.revoke']) {
      const answer = await readAnswer(await postBatch(procedure, [{ code: '000000' }, { code: '111111' }]));
      expect(answer.status).toBe(400);
      expect(answerProblem(answer)).toBeNull();
    }
  });
});
