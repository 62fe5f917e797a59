import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { col, queryRows } from '../db/rows';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { configureProviders } from '../test/provider-helpers';
import { providerCalls } from './tables';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env.close();
});

it('[SUCCESS RATE] one definition: successes over calls in 24 h (skips and older calls left out), the same 0–1 fraction on the Providers page and the dashboard; no stored column', async () => {
  const db = env.deps.dbHandle.db;
  const name = uniqueId('fal').toLowerCase();
  const idle = uniqueId('kie').toLowerCase();
  await configureProviders(env.deps, [
    { name, kind: 'fal', baseUrl: 'http://127.0.0.1:9' },
    { name: idle, kind: 'kie', baseUrl: 'http://127.0.0.1:9' },
  ]);
  const call = (outcome: 'success' | 'failure' | 'skipped', hoursAgo = 1, latencyMs = 100) => ({
    provider: name,
    requestId: uniqueId('r'),
    reservationId: null,
    outcome,
    latencyMs: outcome === 'skipped' ? null : latencyMs,
    createdAt: new Date(Date.now() - hoursAgo * 3_600_000),
  });
  await db.insert(providerCalls).values([
    call('success'),
    call('success'),
    call('success'),
    call('failure'),
    call('skipped'),
    call('skipped'),
    // Older than the window: not counted.
    call('failure', 25),
    call('failure', 30),
  ]);

  const { caller } = await signedInCaller(env.deps, 'analyst');
  const listed = await caller.admin.providers.list();
  expect(listed.find((p) => p.name === name)).toMatchObject({ successRate24h: 0.75, calls24h: 4 });
  expect(listed.find((p) => p.name === idle)).toMatchObject({ successRate24h: null, calls24h: 0 });
  const board = await caller.admin.dashboard();
  expect(board.providers.find((p) => p.name === name)).toMatchObject({ successRate24h: 0.75 });
  expect(board.providers.find((p) => p.name === idle)).toMatchObject({ successRate24h: null });

  const column = await queryRows(
    db,
    z.object({ column_name: col.text }),
    sql`select column_name from information_schema.columns where table_name = 'api_providers' and column_name = 'success_rate_24h'`,
  );
  expect(column).toHaveLength(0);
});
