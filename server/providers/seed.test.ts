import { existsSync } from 'node:fs';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../auth/tables';
import { mediaDir } from '../deps';
import { createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { expectLedgerClean, reasonOf } from '../test/ledger-helpers';
import { expectPoolsClean } from '../test/pool-helpers';
import { seedProviders } from './seed';
import { apiProviders } from './tables';

let env: TestEnv;
// The default URL policy: loopback and private image addresses refused.
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await expectPoolsClean(env.deps.dbHandle.db);
});
afterAll(async () => {
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const providers = () =>
  db()
    .select({ name: apiProviders.name, kind: apiProviders.kind, priority: apiProviders.priority, cost: apiProviders.costPerRequest, active: apiProviders.isActive })
    .from(apiProviders)
    .orderBy(apiProviders.priority);

describe('[SEED] first start registers the providers once', () => {
  it('the four paid providers inactive in the seed order and prices, local active; a second start adds nothing and keeps an admin edit', async () => {
    expect(await seedProviders(db())).toEqual(['nanobanana', 'fal', 'kie', 'google', 'local']);
    expect(await providers()).toEqual([
      { name: 'nanobanana', kind: 'nanobanana', priority: 1, cost: '0.025000', active: false },
      { name: 'fal', kind: 'fal', priority: 2, cost: '0.039000', active: false },
      { name: 'kie', kind: 'kie', priority: 3, cost: '0.023000', active: false },
      { name: 'google', kind: 'google', priority: 4, cost: '0.039000', active: false },
      { name: 'local', kind: 'local', priority: 100, cost: '0.000000', active: true },
    ]);

    // An admin turns fal on at another price; the next start leaves that alone and adds nothing.
    await db().update(apiProviders).set({ isActive: true, costPerRequest: '0.05' }).where(eq(apiProviders.name, 'fal'));
    expect(await seedProviders(db())).toEqual([]);
    const after = await providers();
    expect(after).toHaveLength(5);
    expect(after.find((p) => p.name === 'fal')).toMatchObject({ active: true, cost: '0.050000' });
    const seeds = await db().select().from(auditLog).where(eq(auditLog.action, 'provider.seed'));
    expect(seeds).toHaveLength(1);
  });

  it('two starts at once register each provider once', async () => {
    await db().execute(sql`delete from api_providers`);
    const results = await Promise.all([seedProviders(db()), seedProviders(db())]);
    expect(results.flat().sort()).toEqual(['fal', 'google', 'kie', 'local', 'nanobanana']);
    expect(await providers()).toHaveLength(5);
  });
});

describe('[SEED] "Try an enhancement" works on a fresh install', () => {
  it('the built-in sample, enhanced by local with the admin session, with private image URLs refused', async () => {
    expect(env.deps.config.ALLOW_PRIVATE_IMAGE_URLS).toBe(false);
    await seedProviders(db());
    const { caller, admin } = await signedInCaller(env.deps, 'admin');
    const result = await caller.admin.providers.tryEnhancement({ enhancementType: 'upscale' });
    expect(result).toMatchObject({ status: 'enhanced', provider: 'local', costUsd: '0.000000' });
    expect(result.inputUrl).toBe(`${env.deps.config.publicUrl}/media/sample-moodboard.png`);
    expect(result.outputUrl).toMatch(/\/media\/[0-9a-f-]+\.png$/);
    expect(existsSync(path.join(mediaDir(env.deps.config), path.basename(result.outputUrl!)))).toBe(true);
    const [entry] = await db().select().from(auditLog).where(eq(auditLog.action, 'provider.try'));
    expect(entry).toMatchObject({ actorAdminId: admin.id, targetId: 'local' });

    // Any other loopback address is still refused, in words.
    const refused = caller.admin.providers.tryEnhancement({ enhancementType: 'upscale', imageUrl: 'http://127.0.0.1:9/x.png' });
    await expect(refused).rejects.toThrow(/This image address cannot be used/);
  });

  it('with no provider active the trial says so instead of failing', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    await db().update(apiProviders).set({ isActive: false });
    const result = await caller.admin.providers.tryEnhancement({ enhancementType: 'lighting' });
    expect(result).toMatchObject({ status: 'failed', provider: null, attempts: [] });
    await db().update(apiProviders).set({ isActive: true }).where(eq(apiProviders.name, 'local'));
  });

  it('an analyst cannot run it', async () => {
    const { caller } = await signedInCaller(env.deps, 'analyst');
    expect(await reasonOf(caller.admin.providers.tryEnhancement({ enhancementType: 'lighting' }))).toBe('FORBIDDEN');
  });
});
