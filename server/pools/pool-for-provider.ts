import { eq } from 'drizzle-orm';
import type { PoolInput, PoolView } from '../../shared/pools';
import type { Actor } from '../auth/audit';
import type { SecretBox } from '../auth/secrets';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { apiProviders } from '../providers/tables';
import { createPool } from './pool-admin';

/**
 * An admin's new pool, only for a provider that exists: a pool for a name no provider has would
 * never be drawn and would raise alerts for nothing. The provider row is share-locked until the pool
 * is in, so it cannot change name or vanish in between.
 */
export async function createPoolForProvider(db: DbOrTx, secrets: SecretBox, actor: Actor, input: PoolInput): Promise<PoolView> {
  return db.transaction(async (tx) => {
    const [provider] = await tx.select({ name: apiProviders.name, archivedAt: apiProviders.archivedAt }).from(apiProviders).where(eq(apiProviders.name, input.provider)).for('share');
    if (!provider) {
      throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `There is no provider named ${input.provider}. Add it on the Providers page first.`, {
        fields: ['provider'],
      });
    }
    if (provider.archivedAt) {
      throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `Provider ${input.provider} is archived: restore it on the Providers page first.`, { fields: ['provider'] });
    }
    return createPool(tx, secrets, actor, input);
  });
}
