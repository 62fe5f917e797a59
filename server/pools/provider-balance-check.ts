import { eq, sql } from 'drizzle-orm';
import { recordAlert, resolveCleared } from '../alerts/alert-sink';
import type { SecretBox } from '../auth/secrets';
import type { DbOrTx } from '../db/client';
import type { Outbound } from '../net/outbound';
import { BillingError, HttpBilling } from './billing';
import { poolTotal } from './draw';
import { creditPools, platformSettings } from './tables';

export type DriftResult = { provider: string; poolBalance: number; providerBalance: number | null; drift: number | null; error: string | null };

/**
 * The daily check against what each http-billed provider says we hold: the reported balance is
 * stored, and a drift beyond the tolerance (or an unreadable balance) raises a warning.
 */
export async function checkProviderBalances(db: DbOrTx, secrets: SecretBox, outbound: Outbound, timeoutMs?: number): Promise<DriftResult[]> {
  const pools = await db.select().from(creditPools).where(eq(creditPools.billingMode, 'http'));
  const [settings] = await db.select().from(platformSettings).where(eq(platformSettings.id, 1));
  const billing = new HttpBilling(secrets, outbound, timeoutMs);
  const results: DriftResult[] = [];
  for (const pool of pools) {
    const poolBalance = await poolTotal(db, pool.provider);
    try {
      const providerBalance = await billing.balance(pool);
      const drift = providerBalance - poolBalance;
      await db.execute(sql`update credit_pools set provider_reported_balance = ${providerBalance}, provider_balance_checked_at = now() where provider = ${pool.provider}`);
      // Within tolerance again: an open drift alert about this pool has cleared.
      if (Math.abs(drift) <= settings!.providerDriftTolerance) await resolveCleared(db, 'pool_provider_drift', [pool.provider]);
      else {
        await recordAlert(db, {
          type: 'pool_provider_drift',
          level: 'warning',
          subject: pool.provider,
          message: `${pool.provider} reports ${providerBalance} credits; the pool holds ${poolBalance} (drift ${drift}).`,
          metadata: { provider: pool.provider, providerBalance, poolBalance, drift },
        });
      }
      results.push({ provider: pool.provider, poolBalance, providerBalance, drift, error: null });
    } catch (err) {
      if (!(err instanceof BillingError)) throw err;
      await recordAlert(db, {
        type: 'pool_provider_drift',
        level: 'warning',
        subject: pool.provider,
        message: `Could not read the ${pool.provider} balance: ${err.message}`,
        metadata: { provider: pool.provider },
      });
      results.push({ provider: pool.provider, poolBalance, providerBalance: null, drift: null, error: err.message });
    }
  }
  return results;
}
