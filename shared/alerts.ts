import { z } from 'zod';
import { emailSchema, outboundUrlSchema as httpUrl, pageInputSchema } from './common';

export const alertLevels = ['info', 'warning', 'error', 'critical'] as const;
export const alertLevelSchema = z.enum(alertLevels);
export type AlertLevelName = z.infer<typeof alertLevelSchema>;

export const alertStatusSchema = z.enum(['open', 'acknowledged', 'resolved']);

export const alertChannelNames = ['slack', 'email', 'sms', 'in_app'] as const;
export const alertChannelSchema = z.enum(alertChannelNames);
export type AlertChannelName = z.infer<typeof alertChannelSchema>;

/**
 * The seed's routing by level, before any rule adds a channel; in-app gets every alert. Shared so
 * the alerts page describes the routing the server applies instead of restating it.
 */
export function defaultChannelsFor(level: AlertLevelName): AlertChannelName[] {
  if (level === 'error' || level === 'critical') return ['in_app', 'slack', 'email'];
  if (level === 'warning') return ['in_app', 'slack'];
  return ['in_app'];
}

/** Alert types the platform raises today (rules may name others: a type is just a string). */
export const knownAlertTypes = [
  'pool_low',
  'pool_usage_high',
  'users_out_of_credits',
  'pool_emergency_reserve',
  'pool_provider_drift',
  'refill_over_budget',
  'pool_refilled',
  'pool_refill_failed',
  'provider_unhealthy',
  'enhancement_degraded',
  'webhook_endpoint_disabled',
] as const;

export const alertTypeSchema = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'alert type must be lower-case letters, digits and _ (e.g. pool_low)');

const idSchema = (what: string) => z.string().regex(/^\d{1,18}$/, `id must be ${what} number`);

export const alertSchema = z.object({
  id: z.string(),
  type: z.string(),
  level: alertLevelSchema,
  subject: z.string(),
  message: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  status: alertStatusSchema,
  occurrences: z.number().int(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
});
export type AlertView = z.infer<typeof alertSchema>;

export const activeAlertsInputSchema = z.object({ level: alertLevelSchema.optional() }).default({});

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 time' });

/** `from`/`to` select alerts active in the window: created by `to` and last seen at or after `from`. */
export const alertHistoryInputSchema = pageInputSchema.extend({
  level: alertLevelSchema.optional(),
  type: alertTypeSchema.optional(),
  status: alertStatusSchema.optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
});
export type AlertHistoryInput = z.infer<typeof alertHistoryInputSchema>;

export const alertActionInputSchema = z.object({
  id: idSchema('an alert'),
  note: z.string().trim().max(500).optional(),
});

export const alertDeliverySchema = z.object({
  id: z.string(),
  alertId: z.string(),
  channel: alertChannelSchema,
  status: z.enum(['pending', 'sent', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: z.string(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
});

// ---- Channel settings. Each channel has at most one secret, stored sealed and never returned. ----

const cooldownSchema = z
  .number()
  .int()
  .min(0, 'cooldownSeconds must not be negative')
  .max(7 * 86_400, 'cooldownSeconds is at most a week');
/** Write-only: a value stores a new secret, omitted keeps the stored one, null removes it. */
const writeOnly = <S extends z.ZodType>(schema: S) => schema.nullable().optional();

export const emailConfigSchema = z.object({
  host: z
    .string()
    .trim()
    .min(1, 'host is required')
    .max(253)
    .regex(/^(\[[0-9a-f:.]+\]|[a-z0-9._-]+|[0-9a-f:]+)$/i, 'host must be a host name or an IP address, without a scheme or port'),
  port: z.number().int().min(1).max(65_535),
  /** true: TLS from the first byte (port 465); false: plain, upgraded by STARTTLS when offered. */
  secure: z.boolean(),
  from: emailSchema,
  to: z.array(emailSchema).min(1, 'at least one recipient is required').max(20),
  user: z.string().trim().min(1).max(254).nullable().default(null),
  /** Sign in over a connection without TLS (a server that offers no STARTTLS). Off: such a server is refused. */
  allowInsecureAuth: z.boolean().default(false),
  /** A CA certificate (PEM) the server's certificate must chain to, for a private CA; null: the system's CAs. */
  caPem: z
    .string()
    .trim()
    .max(20_000, 'caPem is at most 20000 characters')
    .regex(/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----$/, 'caPem must be a PEM certificate (-----BEGIN CERTIFICATE----- …)')
    .nullable()
    .default(null),
});
export type EmailConfig = z.infer<typeof emailConfigSchema>;

export const smsConfigSchema = z.object({
  url: httpUrl('url'),
  recipients: z
    .array(
      z
        .string()
        .trim()
        .regex(/^\+?[0-9]{6,16}$/, 'a recipient must be a phone number such as +4915112345678'),
    )
    .min(1, 'at least one recipient is required')
    .max(50),
});
export type SmsConfig = z.infer<typeof smsConfigSchema>;

export const updateChannelInputSchema = z.discriminatedUnion('channel', [
  z.object({ channel: z.literal('slack'), enabled: z.boolean(), cooldownSeconds: cooldownSchema, webhookUrl: writeOnly(httpUrl('webhookUrl')) }),
  z.object({
    channel: z.literal('email'),
    enabled: z.boolean(),
    cooldownSeconds: cooldownSchema,
    config: emailConfigSchema,
    password: writeOnly(z.string().min(1).max(500)),
  }),
  z.object({
    channel: z.literal('sms'),
    enabled: z.boolean(),
    cooldownSeconds: cooldownSchema,
    config: smsConfigSchema,
    token: writeOnly(z.string().min(1).max(500)),
  }),
  // In-app is the alert row itself: always on, only its cool-down is a setting.
  z.object({ channel: z.literal('in_app'), cooldownSeconds: cooldownSchema }),
]);
export type UpdateChannelInput = z.infer<typeof updateChannelInputSchema>;

/** A channel as admins see it: `secretSet` says whether its secret (webhook URL, password, token) is stored. */
export const channelSettingsSchema = z.object({
  channel: alertChannelSchema,
  enabled: z.boolean(),
  cooldownSeconds: z.number().int(),
  config: z.union([emailConfigSchema, smsConfigSchema, z.object({}).strict()]).nullable(),
  secretSet: z.boolean(),
  updatedAt: z.string(),
});
export type ChannelSettingsView = z.infer<typeof channelSettingsSchema>;

export const channelTestResultSchema = z.union([z.object({ ok: z.literal(true) }), z.object({ ok: z.literal(false), error: z.string() })]);

// ---- Alert rules (credit_alerts). ----

/** The reminder interval of an alert type without a rule that sets one. */
export const DEFAULT_REPEAT_INTERVAL_SECONDS = 4 * 3600;

export const thresholdValueSchema = z
  .string()
  .trim()
  .regex(/^\d{1,10}(\.\d{1,4})?$/, 'thresholdValue must be a decimal string such as "90" or "12.5"');

const alertRuleFieldsSchema = z.object({
  alertType: alertTypeSchema,
  /** The check's threshold (pool_low: credits; pool_usage_high: percent); null = the default. users_out_of_credits takes its threshold from Settings. */
  thresholdValue: thresholdValueSchema.nullable().default(null),
  /** Channels this type goes to on top of the level's defaults. */
  notificationChannels: z
    .array(alertChannelSchema)
    .max(4)
    .default([])
    .refine((c) => new Set(c).size === c.length, 'notificationChannels must not repeat a channel'),
  isActive: z.boolean().default(true),
  /** How long an alert of this type stays open before its channels are reminded; 4 h by default, like Alertmanager. */
  repeatIntervalSeconds: z
    .number()
    .int()
    .min(60, 'repeatIntervalSeconds is at least a minute')
    .max(30 * 86_400, 'repeatIntervalSeconds is at most 30 days')
    .default(DEFAULT_REPEAT_INTERVAL_SECONDS),
});
/** users_out_of_credits has one threshold, on the Settings page: a rule holding a second one would disagree with it. */
const noUsersOutThreshold = (r: { alertType: string; thresholdValue: string | null }) => r.alertType !== 'users_out_of_credits' || r.thresholdValue === null;
const usersOutThresholdIssue = { message: 'The users out of credits threshold is set on the Settings page', path: ['thresholdValue'] };
export const alertRuleInputSchema = alertRuleFieldsSchema.refine(noUsersOutThreshold, usersOutThresholdIssue);
export const updateAlertRuleInputSchema = alertRuleFieldsSchema.extend({ id: idSchema('a rule') }).refine(noUsersOutThreshold, usersOutThresholdIssue);
export const deleteAlertRuleInputSchema = z.object({ id: idSchema('a rule') });

export const alertRuleSchema = z.object({
  id: z.string(),
  alertType: z.string(),
  thresholdValue: z.string().nullable(),
  notificationChannels: z.array(alertChannelSchema),
  isActive: z.boolean(),
  lastTriggeredAt: z.string().nullable(),
  repeatIntervalSeconds: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AlertRuleView = z.infer<typeof alertRuleSchema>;

// ---- Silences: an alert type (optionally one subject) is recorded but not sent until a time. ----

export const createSilenceInputSchema = z.object({
  alertType: alertTypeSchema,
  /** One subject (a provider, a pool); null or omitted silences every subject of the type. */
  subject: z.string().trim().min(1).max(200).nullable().default(null),
  endsAt: isoTime,
  reason: z.string().trim().min(1, 'a reason is required').max(500),
});
export type CreateSilenceInput = z.infer<typeof createSilenceInputSchema>;

export const endSilenceInputSchema = z.object({ id: idSchema('a silence') });

export const silenceSchema = z.object({
  id: z.string(),
  alertType: z.string(),
  subject: z.string().nullable(),
  reason: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  endedAt: z.string().nullable(),
  endedBy: z.string().nullable(),
});
export type SilenceView = z.infer<typeof silenceSchema>;
