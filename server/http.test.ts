import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app';
import { createAdmin } from './auth/admins';
import { cliActor } from './auth/audit';
import { loadConfig } from './config';
import { createTestEnv, uniqueId, type TestEnv } from './test/harness';
import { runScript, startServer } from './test/spawn';

let env: TestEnv;
let app: FastifyInstance;
beforeAll(async () => {
  env = await createTestEnv();
  app = await buildApp(env.deps);
});
afterAll(async () => {
  await app.close();
  await env.close();
});

const password = 'a long enough password';

async function loginOver(instance: FastifyInstance, email: string) {
  return instance.inject({ method: 'POST', url: '/trpc/auth.login', payload: { email, password } });
}

describe('[HTTP] host', () => {
  it('/healthz reports the database and Redis', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', database: 'up', databaseKind: 'postgres', redis: 'up' });
  });

  it('answers with security headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    // Plain http here: no HSTS, and no upgrade of insecure requests.
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    // The same headers on a tRPC answer (the direct-call path) as on a route of Fastify's own.
    const trpc = await app.inject({ method: 'GET', url: '/trpc/auth.me' });
    expect(trpc.headers['content-security-policy']).toBe(res.headers['content-security-policy']);
    expect(trpc.headers['x-content-type-options']).toBe('nosniff');
  });

  it('the session cookie is httpOnly and SameSite=Strict, and not Secure on plain http', async () => {
    const email = `${uniqueId('a')}@example.com`;
    await createAdmin(env.deps.dbHandle.db, cliActor, { email, role: 'admin', password });
    const res = await loginOver(app, email);
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^cd_session=/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain('Secure');
    const me = await app.inject({ method: 'GET', url: '/trpc/auth.me', headers: { cookie: cookie.split(';')[0]! } });
    expect(me.json().result.data.email).toBe(email);
  });

  it('the session cookie is Secure when PUBLIC_URL is https', async () => {
    const secureApp = await buildApp({ ...env.deps, config: { ...loadConfig({ ...env.env, PUBLIC_URL: 'https://credits.example.com' }), REDIS_PREFIX: env.deps.config.REDIS_PREFIX } });
    const email = `${uniqueId('a')}@example.com`;
    await createAdmin(env.deps.dbHandle.db, cliActor, { email, role: 'admin', password });
    const res = await loginOver(secureApp, email);
    expect(String(res.headers['set-cookie'])).toContain('Secure');
    await secureApp.close();
  });

  it('bad input over HTTP is a 400 whose reason is BAD_REQUEST and whose message names the field', async () => {
    const res = await app.inject({ method: 'POST', url: '/trpc/auth.login', payload: { email: 'nope', password: 'x' } });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.data.reason).toBe('BAD_REQUEST');
    expect(body.error.message).toContain('email');
    expect(JSON.stringify(body)).not.toContain('stack');
  });
});

describe('[CONFIG] environment', () => {
  it('a bad value names the variable and what it expects in one line', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^Invalid configuration: PORT expects a port number \(got "eighty"\)$/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL .*postgres/);
    expect(() => loadConfig({ MASTER_KEY: 'short' })).toThrow(/MASTER_KEY expects 64 hex characters/);
  });

  it('a bad value stops the start with that line and a non-zero exit', async () => {
    const run = await runScript('server/main.ts', [], { PORT: 'eighty' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('Invalid configuration: PORT expects a port number (got "eighty")');
  });
});

describe('[EMBEDDED] no DATABASE_URL', () => {
  it('boots on PGlite, prints the bootstrap password once, answers /healthz, writes master.key 0600', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'creditdesk-embedded-'));
    const base = { DATA_DIR: dataDir, REDIS_URL: 'off', DATABASE_URL: '', MASTER_KEY: '', ADMIN_EMAIL: '', ADMIN_PASSWORD: '', LOG_LEVEL: 'warn' };
    try {
      // Two boots that migrate an embedded PGlite: on a busy machine each may take minutes.
      const server = await startServer(base, 150_000);
      const health = await (await fetch(`${server.url}/healthz`)).json();
      expect(health).toEqual({ status: 'ok', database: 'up', databaseKind: 'pglite', redis: 'disabled' });
      const printed = /One-time password: (\S+)/.exec(server.output())?.[1];
      expect(printed).toBeTruthy();
      const login = await fetch(`${server.url}/trpc/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@localhost', password: printed }),
      });
      expect(login.status).toBe(200);
      // A generated password must be replaced at this first sign-in.
      expect(((await login.json()) as { result: { data: { mustChangePassword: boolean } } }).result.data.mustChangePassword).toBe(true);
      expect(await server.stop('SIGTERM')).toBe(0);
      expect(statSync(path.join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
      expect(readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);

      const again = await startServer(base, 150_000);
      expect(again.output()).not.toContain('One-time password');
      await again.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 330_000);
});

describe('[CLI] npm run admin', () => {
  it('create-api-key prints the key alone on its last line, and the key works', async () => {
    const run = await runScript('server/cli.ts', ['create-api-key', '--name', 'cli test', '--scopes', 'users:write,credits:read'], env.env);
    expect(run.code).toBe(0);
    const secret = run.stdout.trim().split('\n').at(-1)!;
    expect(secret).toMatch(/^cd_live_[A-Za-z0-9_-]{40,}$/);
    const res = await app.inject({
      method: 'POST',
      url: '/trpc/users.upsert',
      headers: { authorization: `Bearer ${secret}` },
      payload: { userId: uniqueId('cli'), tier: 'plus' },
    });
    expect(res.statusCode).toBe(200);

    const list = await runScript('server/cli.ts', ['list-api-keys'], env.env);
    expect(list.stdout).toContain('cli test');
    expect(list.stdout).not.toContain(secret);
    const id = list.stdout
      .split('\n')
      .find((l) => l.includes('cli test'))!
      .split(/\s+/)[0]!;
    const revoke = await runScript('server/cli.ts', ['revoke-api-key', '--id', id], env.env);
    expect(revoke.code).toBe(0);
    const after = await app.inject({
      method: 'POST',
      url: '/trpc/users.upsert',
      headers: { authorization: `Bearer ${secret}` },
      payload: { userId: uniqueId('cli'), tier: 'plus' },
    });
    expect(after.statusCode).toBe(401);
  }, 60_000);

  it('create-admin without --password prints a generated one that must be changed at the first sign-in', async () => {
    const email = `${uniqueId('c')}@example.com`;
    const created = await runScript('server/cli.ts', ['create-admin', '--email', email, '--role', 'analyst'], env.env);
    expect(created.code).toBe(0);
    const password = /Password \(shown once, to be changed at the first sign-in\): (\S{12,})/.exec(created.stdout)?.[1];
    expect(password).toBeTruthy();
    const login = await app.inject({ method: 'POST', url: '/trpc/auth.login', payload: { email, password } });
    expect(login.statusCode).toBe(200);
    expect(login.json().result.data).toMatchObject({ email, mustChangePassword: true });
    const cookie = login.cookies.find((c) => c.name === 'cd_session')!.value;
    const dashboard = await app.inject({ method: 'GET', url: '/trpc/admin.dashboard', cookies: { cd_session: cookie } });
    expect(dashboard.statusCode).toBe(403);
    expect(dashboard.json().error.data.reason).toBe('PASSWORD_CHANGE_REQUIRED');
  }, 60_000);

  it('bad arguments print usage and exit non-zero', async () => {
    const unknown = await runScript('server/cli.ts', ['frobnicate'], env.env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr).toContain('Usage: npm run admin');
    const badScope = await runScript('server/cli.ts', ['create-api-key', '--name', 'x', '--scopes', 'everything'], env.env);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('scopes.0');
  }, 60_000);
});
