import { expect } from 'vitest';
import type { PoolInput } from '../../shared/pools';
import type { AppDeps } from '../app-deps';
import { cliActor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { creditPool } from '../pools/credit-pool';
import { createPool } from '../pools/pool-admin';
import { checkPools } from '../pools/reconcile';
import { uniqueId } from './harness';

/** A pool with `credits` in it (a purchase entry), for tests that need the platform to pay. */
export async function seedPool(deps: AppDeps, credits: number, overrides: Partial<PoolInput> = {}) {
  const provider = overrides.provider ?? uniqueId('pool').toLowerCase();
  await createPool(deps.dbHandle.db, deps.secrets, cliActor, {
    provider,
    costPerCredit: '0.039',
    autoRefillThreshold: 0,
    autoRefillThresholdPercent: null,
    autoRefillAmount: 0,
    refillMode: 'fixed',
    refillTargetBalance: null,
    emergencyReserve: 0,
    billingMode: 'manual',
    billingUrl: null,
    ...overrides,
  });
  if (credits > 0) await creditPool(deps.dbHandle.db, provider, credits, { reason: 'test seed' });
  return provider;
}

export async function expectPoolsClean(db: DbOrTx) {
  const check = await checkPools(db);
  expect(check.offenders).toEqual([]);
}
