import type { AppDeps } from '../app-deps';
import { updateChannel } from '../alerts/channel-settings';
import { cliActor } from '../auth/audit';
import { createApiKey } from '../auth/api-keys';
import { sql } from 'drizzle-orm';
import { creditPool } from '../pools/credit-pool';
import { createPool } from '../pools/pool-admin';
import { saveProvider } from '../providers/provider-admin';
import { startFakeBilling } from '../test/fake-billing';
import { startFakeChannels } from '../test/fake-channels';
import { startFakeProvider, startImageServer, type FakeKind } from '../test/fake-providers';
import { startWebhookReceiver } from '../test/webhook-receiver';
import { createEndpoint } from '../webhooks/endpoints';

/** The provider set: fal-like and Gemini-like answer in the request; the NanoBanana-like one calls back. */
export const PROVIDERS: { name: string; kind: FakeKind }[] = [
  { name: 'soak-fal', kind: 'fal' },
  { name: 'soak-gemini', kind: 'google' },
  { name: 'soak-callback', kind: 'nanobanana' },
];
/** The pool refilled through the fake billing endpoint (the others are manual). */
export const BILLED_POOL = 'soak-fal';

export async function startFakes() {
  const [images, billing, channels, receiver, ...providers] = await Promise.all([
    startImageServer(),
    startFakeBilling(),
    startFakeChannels(),
    startWebhookReceiver(),
    ...PROVIDERS.map((p) => startFakeProvider(p.kind)),
  ]);
  for (const p of providers) {
    p.state.callBack = true;
    p.state.pollsBeforeDone = 1;
  }
  return {
    images,
    billing,
    channels,
    receiver,
    providers: Object.fromEntries(PROVIDERS.map((p, i) => [p.name, providers[i]!])) as Record<string, (typeof providers)[number]>,
    close: () => Promise.all([images.close(), billing.close(), channels.close(), receiver.close(), ...providers.map((p) => p.close())]),
  };
}
export type Fakes = Awaited<ReturnType<typeof startFakes>>;

/** Points Creditdesk at the fakes: providers and their pools, the Slack channel, one webhook endpoint, an API key. */
export async function configure(deps: AppDeps, fakes: Fakes) {
  const db = deps.dbHandle.db;
  await db.execute(sql`update api_providers set is_active = false`);
  for (const [i, p] of PROVIDERS.entries()) {
    await saveProvider(
      db,
      deps.secrets,
      cliActor,
      {
        name: p.name,
        kind: p.kind,
        baseUrl: fakes.providers[p.name]!.url,
        model: null,
        costPerRequest: '0.01',
        rateLimitPerMinute: 100_000,
        timeoutMs: 3_000,
        isActive: true,
        healthCheckUrl: null,
        apiKey: `key-${p.name}`,
        priority: (i + 1) * 10,
      },
      'create',
    );
    const billed = p.name === BILLED_POOL;
    await createPool(db, deps.secrets, cliActor, {
      provider: p.name,
      costPerCredit: '0.01',
      autoRefillThreshold: billed ? 200 : 0,
      autoRefillThresholdPercent: null,
      autoRefillAmount: billed ? 500 : 0,
      refillMode: 'fixed',
      refillTargetBalance: null,
      emergencyReserve: 0,
      billingMode: billed ? 'http' : 'manual',
      billingUrl: billed ? fakes.billing.url : null,
    });
    // The billed pool starts small, so auto-refills and the admins' refills happen during the run.
    await creditPool(db, p.name, billed ? 400 : 1_000_000, { reason: 'soak seed' });
  }
  await updateChannel(db, deps.secrets, cliActor, { channel: 'slack', enabled: true, cooldownSeconds: 900, webhookUrl: fakes.channels.slackUrl('T0/B0/soak') });
  const endpoint = await createEndpoint(db, deps, cliActor, { url: fakes.receiver.url, events: ['credits.low', 'credits.depleted', 'enhancement.completed'] });
  const { secret } = await createApiKey(db, cliActor, { name: 'soak product app', scopes: ['credits:read', 'credits:write', 'enhance', 'users:write'] });
  return { apiKey: secret, webhookSecret: endpoint.secret };
}
