import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { SecretBox } from '../auth/secrets';
import type { Outbound } from '../net/outbound';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';
import { createProvider } from './adapters';
import type { MediaStore } from './media-store';
import { providerKinds, type AIProvider } from './types';
import type { UrlPolicy } from './url-policy';

/** A provider as the gateway reads it to build its adapter and pick it; `pool_balance` null when it has no pool. */
export const candidateRow = z.object({
  name: col.text,
  kind: z.enum(providerKinds),
  base_url: col.text,
  api_key_encrypted: col.textOrNull,
  model: col.textOrNull,
  health_check_url: col.textOrNull,
  rate_limit_per_minute: col.integer,
  timeout_ms: col.integer,
  updated_at: col.text,
  pool_balance: col.integerOrNull,
});
export type CandidateRow = z.output<typeof candidateRow>;

/** Active providers (never an archived one) in the order the gateway tries them: priority, then the cheaper first. */
export async function candidateProviders(db: DbOrTx): Promise<CandidateRow[]> {
  return queryRows(
    db,
    candidateRow,
    sql`
    select a.name, a.kind, a.base_url, a.api_key_encrypted, a.model, a.health_check_url, a.rate_limit_per_minute,
           a.timeout_ms, a.updated_at::text,
           (select sum(balance)::text from credit_pool_stripes s join credit_pools p on p.provider = s.provider
            where s.provider = a.name and p.status <> 'suspended') as pool_balance
    from api_providers a
    where a.is_active and a.archived_at is null
    order by a.priority, a.cost_per_request, a.name`,
  );
}

/** Builds adapters from provider rows, rebuilding one only when its row changed. */
export class ProviderRegistry {
  private readonly cache = new Map<string, { version: string; provider: AIProvider }>();

  constructor(
    private readonly secrets: SecretBox,
    private readonly media: MediaStore,
    private readonly urlPolicy: UrlPolicy,
    private readonly outbound: Outbound,
    /** `{PUBLIC_URL}/callbacks`. */
    private readonly callbackBase: string,
  ) {}

  adapterFor(row: Pick<CandidateRow, 'name' | 'kind' | 'base_url' | 'api_key_encrypted' | 'model' | 'health_check_url' | 'updated_at'>): AIProvider {
    const cached = this.cache.get(row.name);
    if (cached && cached.version === row.updated_at) return cached.provider;
    const provider = createProvider(
      {
        name: row.name,
        kind: row.kind,
        baseUrl: row.base_url,
        apiKey: row.api_key_encrypted ? this.secrets.decrypt(row.api_key_encrypted) : null,
        model: row.model,
        healthCheckUrl: row.health_check_url,
      },
      { media: this.media, urlPolicy: this.urlPolicy, outbound: this.outbound, callbackBase: this.callbackBase },
    );
    this.cache.set(row.name, { version: row.updated_at, provider });
    return provider;
  }
}
