import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { apiProviders } from './tables';

type SeedProvider = typeof apiProviders.$inferInsert;

/**
 * What a fresh install starts with: the four paid providers in the order and at the prices the
 * platform buys them, inactive until an admin enters a key, and the built-in local provider, active
 * (it needs no key and no network), tried after any paid provider that is turned on.
 */
export const SEED_PROVIDERS: readonly SeedProvider[] = [
  { name: 'nanobanana', kind: 'nanobanana', baseUrl: 'https://api.nanobananaapi.ai', priority: 1, costPerRequest: '0.025', isActive: false },
  { name: 'fal', kind: 'fal', baseUrl: 'https://queue.fal.run', priority: 2, costPerRequest: '0.039', isActive: false },
  { name: 'kie', kind: 'kie', baseUrl: 'https://api.kie.ai', priority: 3, costPerRequest: '0.023', isActive: false },
  { name: 'google', kind: 'google', baseUrl: 'https://generativelanguage.googleapis.com', priority: 4, costPerRequest: '0.039', isActive: false },
  { name: 'local', kind: 'local', baseUrl: 'http://localhost', priority: 100, costPerRequest: '0', isActive: true },
];

const seedActor: Actor = { adminId: null, label: 'first start' };

/**
 * Registers the seed providers that are missing, on every start. A provider already there (seeded
 * before, or created or edited by an admin) is left exactly as it is, so a second start adds nothing
 * and never undoes an admin's change. Returns the names it added.
 */
export async function seedProviders(db: DbOrTx): Promise<string[]> {
  return db.transaction(async (tx) => {
    const added = await tx
      .insert(apiProviders)
      .values([...SEED_PROVIDERS])
      .onConflictDoNothing({ target: apiProviders.name })
      .returning({ name: apiProviders.name, isActive: apiProviders.isActive, priority: apiProviders.priority });
    if (added.length > 0) {
      await audit(tx, seedActor, {
        action: 'provider.seed',
        targetType: 'provider',
        targetId: null,
        after: added,
        reason: 'registered on first start',
      });
    }
    return added.map((a) => a.name);
  });
}
