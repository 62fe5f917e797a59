import { sql } from 'drizzle-orm';
import type { ProviderInput } from '../../shared/providers';
import type { AppDeps } from '../app-deps';
import { cliActor } from '../auth/audit';
import { saveProvider } from '../providers/provider-admin';
import { seedPool } from './pool-helpers';

export type TestProvider = Partial<ProviderInput> & Pick<ProviderInput, 'name' | 'kind' | 'baseUrl'> & { poolCredits?: number; costPerCredit?: string };

/**
 * Replaces the configured providers with `providers`, in that priority order, each non-local one
 * with a pool holding `poolCredits` (default 100) at `costPerCredit`.
 */
export async function configureProviders(deps: AppDeps, providers: TestProvider[]) {
  const db = deps.dbHandle.db;
  await db.execute(sql`update api_providers set is_active = false`);
  for (const [i, p] of providers.entries()) {
    await db.execute(sql`delete from api_providers where name = ${p.name}`);
    await saveProvider(
      db,
      deps.secrets,
      cliActor,
      {
        model: null,
        costPerRequest: p.costPerCredit ?? '0.01',
        rateLimitPerMinute: 1000,
        timeoutMs: 2_000,
        isActive: true,
        healthCheckUrl: null,
        apiKey: `key-${p.name}`,
        ...p,
        priority: (i + 1) * 10,
      },
      'create',
    );
    if (p.kind !== 'local') {
      await db.execute(sql`delete from credit_pools where provider = ${p.name}`);
      await seedPool(deps, p.poolCredits ?? 100, { provider: p.name, costPerCredit: p.costPerCredit ?? '0.01' });
    }
  }
}
