import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * REDIS_PREFIX when set; else one of this installation's own, so two checkouts on one host that
 * both find Redis on the default address keep apart queues, throttles and rate limits.
 */
export const redisPrefixFor = (config: Config, installationId: string) => config.REDIS_PREFIX ?? `creditdesk:${installationId}`;

/**
 * REDIS_URL set: connect or fail the start. Unset: use Redis on the default address when it
 * answers, else null (jobs run in-process). `off`: null.
 */
export async function connectRedis(config: Config, log: Logger): Promise<Redis | null> {
  if (config.REDIS_URL === 'off') return null;
  const url = config.REDIS_URL ?? DEFAULT_REDIS_URL;
  // Auto-pipelining: the commands one request issues together (its key's and its user's rate
  // limits; a provider's circuit admission and its minute) leave in one write and come back in one
  // read. Subscriptions (duplicates of this connection) are exempt in ioredis itself.
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 2, enableOfflineQueue: true, enableAutoPipelining: true });
  redis.on('error', (err) => log.debug({ err }, 'redis error'));
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    if (config.REDIS_URL) throw new Error(`Cannot reach Redis at ${url}: ${(err as Error).message}`);
    log.info('No Redis on %s: scheduled jobs run in-process (single instance).', url);
    return null;
  }
}
