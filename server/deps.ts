import pino, { type Logger } from 'pino';
import { LoginThrottle } from './auth/login-throttle';
import { loadMasterKey, SecretBox } from './auth/secrets';
import { UserTokens } from './auth/user-tokens';
import type { AppDeps } from './app-deps';
import type { Config } from './config';
import { openDb } from './db/client';
import { migrate } from './db/migrate';
import { connectRedis } from './redis';

export function createLogger(config: Config): Logger {
  const pretty = process.stdout.isTTY && config.NODE_ENV !== 'production';
  return pino({ level: config.LOG_LEVEL, ...(pretty ? { transport: { target: 'pino-pretty' } } : {}) });
}

/** Opens the database (migrated), Redis when there is one, and the services built on them. */
export async function createDeps(config: Config, log: Logger = createLogger(config)): Promise<AppDeps> {
  const dbHandle = await openDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, maxConnections: config.DATABASE_POOL_MAX });
  await migrate(dbHandle);
  const redis = await connectRedis(config, log);
  const masterKey = loadMasterKey(config.MASTER_KEY, config.DATA_DIR);
  return {
    config,
    dbHandle,
    redis,
    log,
    secrets: new SecretBox(masterKey),
    userTokens: new UserTokens(masterKey),
    throttle: new LoginThrottle({
      maxFailures: config.LOGIN_MAX_FAILURES,
      windowSeconds: config.LOGIN_WINDOW_SECONDS,
      redis,
      prefix: config.REDIS_PREFIX,
    }),
  };
}

export async function closeDeps(deps: AppDeps): Promise<void> {
  deps.redis?.disconnect();
  await deps.dbHandle.close();
}
