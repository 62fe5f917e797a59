import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { inject } from 'vitest';
import type { AppDeps } from '../app-deps';
import { createAdmin } from '../auth/admins';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { login } from '../auth/sessions';
import { loadConfig, type Config } from '../config';
import { closeDeps, createDeps } from '../deps';
import { createContextInner, type CookieJar } from '../trpc/context';
import { createCallerFactory } from '../trpc/init';
import { appRouter } from '../trpc/root';
import type { AdminRole, ApiKeyScope } from '../../shared/enums';
import { adminSql, databaseUrl, testDatabaseName, TEST_REDIS_URL } from './pg-admin';

export const createCaller = createCallerFactory(appRouter);

export type TestEnv = {
  deps: AppDeps;
  dbName: string;
  databaseUrl: string;
  redisPrefix: string;
  env: Record<string, string>;
  close: () => Promise<void>;
};

export const uniqueId = (prefix = 'u') => `${prefix}-${randomBytes(6).toString('hex')}`;

/** A database cloned from the migrated template and a Redis prefix, both this file's alone. */
export async function createTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  const dbName = testDatabaseName();
  const sql = adminSql();
  await sql.unsafe(`create database "${dbName}" template "${inject('templateDb')}"`);
  await sql.end();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'creditdesk-test-'));
  const redisPrefix = `cdtest:${dbName}`;
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl(dbName),
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    DATA_DIR: dataDir,
    MASTER_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    // Test files run side by side against one server's max_connections.
    DATABASE_POOL_MAX: '10',
    // Every fake provider, billing endpoint and channel listens on 127.0.0.1; production stays strict.
    ALLOW_PRIVATE_OUTBOUND: 'true',
    ...overrides,
  };
  const config: Config = loadConfig(env);
  const deps = await createDeps(config, pino({ level: 'silent' }));
  return {
    deps,
    dbName,
    databaseUrl: env.DATABASE_URL,
    redisPrefix,
    env,
    async close() {
      if (deps.redis) {
        const keys = await deps.redis.keys(`${redisPrefix}*`);
        if (keys.length) await deps.redis.del(...keys);
      }
      await closeDeps(deps);
      const admin = adminSql();
      await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
      await admin.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const publicCaller = (deps: AppDeps, cookies?: CookieJar) => createCaller(createContextInner(deps, { cookies }));

/** Signs in a fresh admin of `role` and returns a caller carrying its session. */
export async function signedInCaller(deps: AppDeps, role: AdminRole = 'admin') {
  const email = `${uniqueId(role)}@example.com`;
  const password = 'correct horse battery staple';
  const admin = await createAdmin(deps.dbHandle.db, cliActor, { email, role, password });
  const session = await login(deps.dbHandle.db, deps.throttle, 1, { email, password, address: '10.0.0.1' });
  return { admin, token: session.token, caller: createCaller(createContextInner(deps, { sessionToken: session.token })) };
}

/** Creates an API key with `scopes` and returns a caller presenting it. */
export async function apiKeyCaller(deps: AppDeps, scopes: ApiKeyScope[]) {
  const { apiKey, secret } = await createApiKey(deps.dbHandle.db, cliActor, { name: uniqueId('key'), scopes });
  return { apiKey, secret, caller: createCaller(createContextInner(deps, { bearer: secret })) };
}
