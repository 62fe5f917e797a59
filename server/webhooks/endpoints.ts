import { desc, eq, sql } from 'drizzle-orm';
import type { CreateWebhookInput, UpdateWebhookInput, WebhookEndpointView, WebhookEventType } from '../../shared/webhooks';
import { audit, type Actor } from '../auth/audit';
import type { SecretBox } from '../auth/secrets';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { outboundRefusal, type Outbound } from '../net/outbound';
import { newWebhookSecret, sealEndpointSecret } from './endpoint-secret';
import { webhookEndpoints } from './tables';

type EndpointRow = typeof webhookEndpoints.$inferSelect;

/** Never carries the secret. */
export const toEndpointView = (r: EndpointRow): WebhookEndpointView => ({
  id: r.id,
  url: r.url,
  events: r.events as WebhookEventType[],
  status: r.status as WebhookEndpointView['status'],
  disabledReason: r.disabledReason,
  failingSince: r.failingSince?.toISOString() ?? null,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

const unknownEndpoint = (id: string) => new DomainError('NOT_FOUND', 'NOT_FOUND', `Webhook endpoint ${id} does not exist.`);

/** The outbound policy judges the URL now (and again at every connection). */
async function assertDeliverable(outbound: Outbound, url: string): Promise<void> {
  try {
    await outbound.checkUrl(url);
  } catch (err) {
    const refused = outboundRefusal(err) ?? (err instanceof Error ? err : null);
    throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `This address cannot receive webhooks: ${refused?.message ?? 'refused'}.`, { fields: ['url'] });
  }
}

export async function createEndpoint(
  db: DbOrTx,
  deps: { secrets: SecretBox; outbound: Outbound },
  actor: Actor,
  input: CreateWebhookInput,
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  await assertDeliverable(deps.outbound, input.url);
  const secret = newWebhookSecret();
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({ url: input.url, events: input.events, secretEncrypted: sealEndpointSecret(deps.secrets, input.url, secret) })
      .returning();
    const endpoint = toEndpointView(row!);
    await audit(tx, actor, { action: 'webhook.create', targetType: 'webhook_endpoint', targetId: endpoint.id, after: endpoint });
    return { endpoint, secret };
  });
}

export async function listEndpoints(db: DbOrTx): Promise<WebhookEndpointView[]> {
  const rows = await db.select().from(webhookEndpoints).orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id));
  return rows.map(toEndpointView);
}

async function lockEndpoint(db: DbOrTx, id: string): Promise<EndpointRow> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).for('update');
  if (!row) throw unknownEndpoint(id);
  return row;
}

/** Events and enabled state; enabling again clears the failure streak so the endpoint gets a fresh 24 h. */
export async function updateEndpoint(db: DbOrTx, actor: Actor, input: UpdateWebhookInput): Promise<WebhookEndpointView> {
  return db.transaction(async (tx) => {
    const before = await lockEndpoint(tx, input.id);
    const status = input.enabled === undefined ? before.status : input.enabled ? 'enabled' : 'disabled';
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        events: input.events ?? before.events,
        status,
        ...(status !== before.status ? { disabledReason: status === 'disabled' ? `disabled by ${actor.label}` : null, failingSince: null } : {}),
        updatedAt: sql`now()`,
      })
      .where(eq(webhookEndpoints.id, input.id))
      .returning();
    const after = toEndpointView(row!);
    await audit(tx, actor, { action: 'webhook.update', targetType: 'webhook_endpoint', targetId: input.id, before: toEndpointView(before), after });
    return after;
  });
}

/** Removes the endpoint with its deliveries and their attempts. */
export async function deleteEndpoint(db: DbOrTx, actor: Actor, id: string): Promise<WebhookEndpointView> {
  return db.transaction(async (tx) => {
    const before = toEndpointView(await lockEndpoint(tx, id));
    await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    await audit(tx, actor, { action: 'webhook.delete', targetType: 'webhook_endpoint', targetId: id, before });
    return before;
  });
}

/** A new secret at once (shown once); deliveries from now on are signed with it alone. */
export async function rotateEndpointSecret(db: DbOrTx, secrets: SecretBox, actor: Actor, id: string) {
  return db.transaction(async (tx) => {
    const before = await lockEndpoint(tx, id);
    const secret = newWebhookSecret();
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ secretEncrypted: sealEndpointSecret(secrets, before.url, secret), updatedAt: sql`now()` })
      .where(eq(webhookEndpoints.id, id))
      .returning();
    const endpoint = toEndpointView(row!);
    await audit(tx, actor, { action: 'webhook.rotate_secret', targetType: 'webhook_endpoint', targetId: id });
    return { endpoint, secret };
  });
}
