import { eq } from 'drizzle-orm';
import type { AppDeps } from '../app-deps';
import { recordAlert, resolveAllBut } from '../alerts/alert-sink';
import { checkProviderHealth } from '../providers/provider-admin';
import { apiProviders } from '../providers/tables';

/**
 * Checks every active provider; an unhealthy one raises an error alert (folded while it stays down).
 * Every other open alert resolves: the provider passed again, or it was disabled or archived and so
 * is no longer routed to.
 */
export async function checkAllProviders(deps: AppDeps) {
  const db = deps.dbHandle.db;
  const active = await db.select({ name: apiProviders.name }).from(apiProviders).where(eq(apiProviders.isActive, true));
  const results = [];
  for (const { name } of active) {
    const health = await checkProviderHealth(db, deps.gateway, name);
    if (!health.ok) {
      await recordAlert(db, {
        type: 'provider_unhealthy',
        level: 'error',
        subject: name,
        message: `Provider ${name} failed its health check: ${health.detail ?? 'no answer'}`,
        metadata: { provider: name, latencyMs: health.latencyMs },
      });
    }
    results.push(health);
  }
  await resolveAllBut(
    db,
    'provider_unhealthy',
    results.filter((r) => !r.ok).map((r) => r.name),
  );
  return { checked: results.length, unhealthy: results.filter((r) => !r.ok).map((r) => r.name) };
}
