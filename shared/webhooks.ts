import { z } from 'zod';
import { outboundUrlSchema, pageInputSchema } from './common';

/** Every event a product app may subscribe to (Standard Webhooks payload `{ type, timestamp, data }`). */
export const webhookEventTypes = ['credits.low', 'credits.depleted', 'credits.reset', 'grant.expired', 'enhancement.completed', 'enhancement.degraded'] as const;
export const webhookEventTypeSchema = z.enum(webhookEventTypes);
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

const eventsSchema = z
  .array(webhookEventTypeSchema)
  .min(1, 'pick at least one event')
  .transform((list) => [...new Set(list)]);

const endpointIdSchema = z.string().uuid('id must be an endpoint id');

export const createWebhookInputSchema = z.object({ url: outboundUrlSchema('url'), events: eventsSchema });
export type CreateWebhookInput = z.infer<typeof createWebhookInputSchema>;

export const updateWebhookInputSchema = z.object({ id: endpointIdSchema, events: eventsSchema.optional(), enabled: z.boolean().optional() });
export type UpdateWebhookInput = z.infer<typeof updateWebhookInputSchema>;

export const webhookIdInputSchema = z.object({ id: endpointIdSchema });

export const webhookEndpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(webhookEventTypeSchema),
  status: z.enum(['enabled', 'disabled']),
  disabledReason: z.string().nullable(),
  failingSince: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WebhookEndpointView = z.infer<typeof webhookEndpointSchema>;

/** The only answer that carries the signing secret (`whsec_…`): shown once, never readable again. */
export const createdWebhookSchema = z.object({ endpoint: webhookEndpointSchema, secret: z.string() });

export const webhookDeliveriesInputSchema = pageInputSchema.extend({ endpointId: endpointIdSchema });

export const webhookAttemptSchema = z.object({
  attemptedAt: z.string(),
  responseStatus: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int(),
});

export const webhookDeliverySchema = z.object({
  id: z.string(),
  msgId: z.string(),
  eventType: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
  /** The latest attempts, newest first. */
  recentAttempts: z.array(webhookAttemptSchema),
});
export type WebhookDeliveryView = z.infer<typeof webhookDeliverySchema>;

export const webhookDeliveriesPageSchema = z.object({ rows: z.array(webhookDeliverySchema), total: z.number().int() });

export const replayWebhookInputSchema = z.object({ deliveryId: z.string().regex(/^\d{1,18}$/, 'deliveryId must be a delivery id') });
