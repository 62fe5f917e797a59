import pino, { type Logger } from 'pino';
import { ApiKeyAuth } from './auth/api-key-auth';
import { LoginThrottle } from './auth/login-throttle';
import { loadMasterKey, SecretBox } from './auth/secrets';
import { UserTokens } from './auth/user-tokens';
import type { AppDeps } from './app-deps';
import type { AppConfig, Config } from './config';
import { installationId } from './db/installation';
import { openDb } from './db/client';
import { migrate } from './db/migrate';
import { connectRedis, DEFAULT_REDIS_URL, redisPrefixFor } from './redis';
import { BullmqRunner } from './jobs/bullmq-runner';
import { allJobs } from './jobs/all-jobs';
import { InProcessRunner } from './jobs/in-process-runner';
import type { JobDefinition } from './jobs/job-definition';
import { Outbound } from './net/outbound';
import { jitteredRetryDelay } from './providers/attempt';
import { MemoryCircuitBreaker, RedisCircuitBreaker } from './providers/circuit-breaker';
import { EnhanceRequestLimit } from './providers/enhance-rate-limit';
import { MediaStore } from './providers/media-store';
import { ProviderRateLimiter } from './providers/rate-limit';
import { ProviderRegistry } from './providers/registry';
import path from 'node:path';
import { createRealtime } from './realtime/realtime';

/** JSON lines for log collectors; in a terminal, readable lines (`12:04:31 INFO: …`) through pino-pretty. */
export function createLogger(config: Config): Logger {
  const pretty = process.stdout.isTTY && config.NODE_ENV !== 'production';
  const transport = { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,reqId', singleLine: true } };
  return pino({ level: config.LOG_LEVEL, ...(pretty ? { transport } : {}) });
}

/** Opens the database (migrated), Redis when there is one, and the services built on them. */
export async function createDeps(env: Config, log: Logger = createLogger(env), jobs: JobDefinition[] = allJobs): Promise<AppDeps> {
  const dbHandle = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, maxConnections: env.DATABASE_POOL_MAX, prepare: env.DATABASE_PREPARE });
  await migrate(dbHandle);
  const config: AppConfig = { ...env, REDIS_PREFIX: redisPrefixFor(env, await installationId(dbHandle.db)) };
  const redis = await connectRedis(config, log);
  const masterKey = loadMasterKey(config.MASTER_KEY, config.DATA_DIR);
  const secrets = new SecretBox(masterKey);
  const circuit = {
    failureThreshold: config.CIRCUIT_FAILURE_THRESHOLD,
    windowMs: config.CIRCUIT_WINDOW_SECONDS * 1000,
    cooldownMs: config.CIRCUIT_COOLDOWN_SECONDS * 1000,
    trialTimeoutMs: 120_000,
  };
  const media = new MediaStore(mediaDir(config), config.publicUrl, config.MEDIA_QUOTA_MB * 2 ** 20);
  // Two policies, one agent each: connections opened for image URLs are never reused for admin-set ones.
  const urlPolicy = new Outbound({ allowPrivate: config.ALLOW_PRIVATE_IMAGE_URLS });
  const outbound = new Outbound({ allowPrivate: config.ALLOW_PRIVATE_OUTBOUND });
  const services: Omit<AppDeps, 'jobs'> = {
    config,
    dbHandle,
    redis,
    log,
    secrets,
    outbound,
    gateway: {
      db: dbHandle.db,
      media,
      urlPolicy,
      holdGraceSeconds: config.ENHANCE_HOLD_GRACE_SECONDS,
      callbackBase: callbackBase(config.publicUrl),
      asyncLeaseSeconds: config.ENHANCE_ASYNC_LEASE_SECONDS,
      log,
      registry: new ProviderRegistry(secrets, media, urlPolicy, outbound, callbackBase(config.publicUrl)),
      breaker: redis ? new RedisCircuitBreaker(redis, config.REDIS_PREFIX, circuit, log) : new MemoryCircuitBreaker(circuit),
      rateLimiter: new ProviderRateLimiter(redis, config.REDIS_PREFIX, log),
      now: Date.now,
      retryDelayMs: jitteredRetryDelay,
      requestLimit: new EnhanceRequestLimit(redis, config.REDIS_PREFIX, { perUser: config.ENHANCE_RATE_PER_USER_PER_MINUTE, perKey: config.ENHANCE_RATE_PER_KEY_PER_MINUTE }, log),
    },
    userTokens: new UserTokens(masterKey),
    throttle: new LoginThrottle({
      maxFailures: config.LOGIN_MAX_FAILURES,
      windowSeconds: config.LOGIN_WINDOW_SECONDS,
      redis,
      prefix: config.REDIS_PREFIX,
    }),
    apiKeys: new ApiKeyAuth({ dbHandle, redis, redisPrefix: config.REDIS_PREFIX, log }),
    realtime: createRealtime({ dbHandle, redis, redisPrefix: config.REDIS_PREFIX, log }),
  };
  // The runner adds itself as `jobs` and hands that one object to every handler: it is the process's deps.
  const { deps } = redis ? new BullmqRunner(services, jobs, config.REDIS_URL ?? DEFAULT_REDIS_URL) : new InProcessRunner(services, jobs);
  await deps.apiKeys.start();
  return deps;
}

/** Where provider callbacks arrive (server/providers/callback-route.ts). */
export const callbackBase = (publicUrl: string) => `${publicUrl.replace(/\/+$/, '')}/callbacks`;

/** Where enhanced images are written; the server serves it at /media. */
export const mediaDir = (config: Config) => path.resolve(config.DATA_DIR, 'media');

export async function closeDeps(deps: AppDeps): Promise<void> {
  await deps.realtime.close();
  await deps.jobs.stop();
  // Before Redis and the database go: it writes the calls counted since its last flush.
  await deps.apiKeys.close();
  deps.redis?.disconnect();
  await Promise.all([deps.outbound.close(), deps.gateway.urlPolicy.close()]);
  await deps.dbHandle.close();
}
