import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ApiKeyAuth } from './auth/api-key-auth';
import type { LoginThrottle } from './auth/login-throttle';
import type { SecretBox } from './auth/secrets';
import type { UserTokens } from './auth/user-tokens';
import type { AppConfig } from './config';
import type { GatewayDeps } from './providers/gateway';
import type { JobRunner } from './jobs/runner';
import type { DbHandle } from './db/client';
import type { Outbound } from './net/outbound';
import type { Realtime } from './realtime/realtime';

/** Long-lived services shared by every request, job and CLI command of one process. */
export type AppDeps = {
  config: AppConfig;
  dbHandle: DbHandle;
  redis: Redis | null;
  throttle: LoginThrottle;
  /** Product apps' API keys: checked from memory, changes announced to every process, usage counted in batches. */
  apiKeys: ApiKeyAuth;
  secrets: SecretBox;
  userTokens: UserTokens;
  log: Logger;
  /** Every request to an admin-set URL (providers, billing, channels, health checks) goes through it. */
  outbound: Outbound;
  /** The enhancement gateway's collaborators: circuit breaker, rate limiter, adapters, media. */
  gateway: GatewayDeps;
  /** Scheduled and on-demand jobs: BullMQ with Redis, in-process without. */
  jobs: JobRunner;
  /** Live streams: the after-commit change bus and this process's hub (server/realtime). */
  realtime: Realtime;
};
