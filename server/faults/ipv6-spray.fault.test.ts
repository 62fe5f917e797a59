import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin } from '../auth/admins';
import { cliActor } from '../auth/audit';
import { login } from '../auth/sessions';
import { DomainError } from '../errors';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';

/**
 * [GUESSING] A caller's address allowance (four times an email's) also holds for a caller on IPv6,
 * who is handed a whole /64 and can send each guess from another address in it: spraying one
 * password over many emails from one /64 is refused like spraying from one IPv4 address.
 */

let env: TestEnv;
const db = () => env.deps.dbHandle.db;
const limit = () => env.deps.config.LOGIN_MAX_FAILURES;

beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env?.close();
});

/** One wrong password for a fresh admin's email from `address`: its refusal's reason. */
async function spray(address: string): Promise<string> {
  const email = `${uniqueId('spray')}@example.com`;
  await createAdmin(db(), cliActor, { email, role: 'admin', password: 'the right long password' });
  return login(db(), env.deps.throttle, 1, { email, password: 'Winter2026!', address }).then(
    () => 'OK',
    (err: unknown) => (err instanceof DomainError ? err.reason : `THREW ${String(err)}`),
  );
}

describe('[GUESSING] password spraying from one IPv6 /64', () => {
  it('one wrong password over many emails, each guess from another address of one /64, is refused after the address allowance', async () => {
    const allowance = 4 * limit();
    const reasons: string[] = [];
    // 2001:db8:77:1::/64, a new interface id for every guess (what any host on that network may use).
    for (let i = 0; i < allowance + 3; i++) reasons.push(await spray(`2001:db8:77:1:${(i + 1).toString(16)}:0:0:${(0x100 + i).toString(16)}`));
    expect(reasons.slice(0, allowance)).toEqual(Array(allowance).fill('UNAUTHORIZED'));
    expect(reasons.slice(allowance)).toEqual(Array(3).fill('TOO_MANY_REQUESTS'));
    // Another network (another /64) has its own allowance; so does an IPv4 caller.
    expect(await spray('2001:db8:77:2::1')).toBe('UNAUTHORIZED');
    expect(await spray('203.0.113.9')).toBe('UNAUTHORIZED');
  });

  it('an IPv4 caller seen in its IPv4-mapped IPv6 form (a dual-stack socket) is the same caller as in dotted form', async () => {
    const allowance = 4 * limit();
    const reasons: string[] = [];
    for (let i = 0; i < allowance + 2; i++) reasons.push(await spray(i % 2 === 0 ? '198.51.100.23' : '::ffff:198.51.100.23'));
    expect(reasons.slice(0, allowance)).toEqual(Array(allowance).fill('UNAUTHORIZED'));
    expect(reasons.slice(allowance)).toEqual(Array(2).fill('TOO_MANY_REQUESTS'));
  });
});
