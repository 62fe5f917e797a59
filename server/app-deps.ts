import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LoginThrottle } from './auth/login-throttle';
import type { SecretBox } from './auth/secrets';
import type { UserTokens } from './auth/user-tokens';
import type { Config } from './config';
import type { DbHandle } from './db/client';

/** Long-lived services shared by every request, job and CLI command of one process. */
export type AppDeps = {
  config: Config;
  dbHandle: DbHandle;
  redis: Redis | null;
  throttle: LoginThrottle;
  secrets: SecretBox;
  userTokens: UserTokens;
  log: Logger;
};
