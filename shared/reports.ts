import { z } from 'zod';
import { emailSchema } from './common';

export const reportKinds = ['daily', 'weekly'] as const;
export const reportKindSchema = z.enum(reportKinds);
export type ReportKind = z.infer<typeof reportKindSchema>;

export const reportSettingsInputSchema = z.object({
  kind: reportKindSchema,
  enabled: z.boolean(),
  slack: z.boolean(),
  emailTo: z
    .array(emailSchema)
    .max(20, 'at most 20 recipients')
    .refine((a) => new Set(a).size === a.length, 'emailTo must not repeat an address'),
});
export type ReportSettingsInput = z.infer<typeof reportSettingsInputSchema>;

export const reportSettingsSchema = reportSettingsInputSchema.extend({
  schedule: z.string(),
  lastSent: z.object({ periodStart: z.string(), periodEnd: z.string(), sentAt: z.string().nullable(), status: z.string() }).nullable(),
});
export type ReportSettingsView = z.infer<typeof reportSettingsSchema>;

const providerLine = z.object({
  provider: z.string(),
  calls: z.number().int(),
  failures: z.number().int(),
  /** 0–1, null without calls; shown as a percentage. */
  successRate: z.number().nullable(),
  p95Ms: z.number().int().nullable(),
  costUsd: z.string(),
});

export const reportFiguresSchema = z.object({
  requests: z.number().int(),
  successfulRequests: z.number().int(),
  credits: z.number().int(),
  overflowCredits: z.number().int(),
  /** Share of credits the platform pools paid (overflow), 0–1; null without credits. */
  overflowShare: z.number().nullable(),
  costUsd: z.string(),
  providers: z.array(providerLine),
  mostFailing: z.object({ provider: z.string(), failures: z.number().int() }).nullable(),
  topUsers: z.array(z.object({ userId: z.string(), email: z.string().nullable(), requests: z.number().int(), credits: z.number().int() })),
  alertsOpened: z.number().int(),
  alertsResolved: z.number().int(),
});
export type ReportFigures = z.infer<typeof reportFiguresSchema>;

export const reportContentSchema = z.object({
  kind: reportKindSchema,
  from: z.string(),
  to: z.string(),
  figures: reportFiguresSchema,
  /** Weekly: the week before, for the trend. */
  previous: reportFiguresSchema.nullable(),
  budget: z.object({ configured: z.boolean(), budgetUsd: z.string(), providerCostMonthToDateUsd: z.string(), providerCostProjectedUsd: z.string(), overBudget: z.boolean() }),
  pools: z.array(z.object({ provider: z.string(), balance: z.number(), daysUntilEmpty: z.number().nullable() })),
  /** Credits per day over the 14 days that end with the period (the email's chart). */
  days: z.array(z.object({ day: z.string(), credits: z.number().int(), overflowCredits: z.number().int() })),
});
export type ReportContent = z.infer<typeof reportContentSchema>;

export const sendNowResultSchema = z.object({
  content: reportContentSchema,
  /** The plain-text rendering, as the email's text part: what the SPA shows as the preview. */
  text: z.string(),
  deliveries: z.array(z.object({ channel: z.enum(['slack', 'email']), ok: z.boolean(), error: z.string().nullable() })),
});
export type SendNowResult = z.infer<typeof sendNowResultSchema>;
