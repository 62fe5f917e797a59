import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { cliActor } from '../../server/auth/audit';
import type { SecretBox } from '../../server/auth/secrets';
import type { DbOrTx } from '../../server/db/client';
import { saveProvider } from '../../server/providers/provider-admin';
import { createFundedPool } from '../lib/seed';

/**
 * The only active provider: kind fal at `baseUrl` (the in-bench stub), with a pool holding
 * `credits`, a rate limit no run reaches and a generous timeout, so every call is served.
 */
export async function configureStubProvider(db: DbOrTx, secrets: SecretBox, name: string, baseUrl: string, credits: number): Promise<void> {
  await db.execute(sql`update api_providers set is_active = false`);
  await saveProvider(
    db,
    secrets,
    cliActor,
    {
      name,
      kind: 'fal',
      baseUrl,
      apiKey: 'bench-key',
      model: null,
      costPerRequest: '0.01',
      rateLimitPerMinute: 100_000,
      priority: 10,
      timeoutMs: 30_000,
      isActive: true,
      healthCheckUrl: null,
    },
    'create',
  );
  await createFundedPool(db, secrets, name, credits, '0.010000');
}

/** Deletes the keys this run's server wrote under its own prefix (nothing else). */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let n = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return n;
}
