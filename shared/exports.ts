import { z } from 'zod';
import { alertLevelSchema, alertStatusSchema, alertTypeSchema } from './alerts';
import { auditFilterSchema } from './audit';
import { timeFilterSchema } from './common';
import { tierSchema } from './enums';
import { ledgerFilterSchema } from './ledger';
import { providerNameSchema, purchaseRequestStatusSchema } from './pools';

/**
 * The query string of each `GET /export/<name>.csv`: the filters of the page it exports, as text.
 * Strict, so a misspelt filter is refused rather than silently exporting everything.
 */
export const exportFilterSchemas = {
  ledger: ledgerFilterSchema.strict(),
  audit: auditFilterSchema.strict(),
  users: z
    .object({
      search: z.string().trim().max(254).optional(),
      tier: tierSchema.optional(),
      outOfCredits: z.enum(['true', 'false']).optional(),
    })
    .strict(),
  'purchase-requests': z.object({ status: purchaseRequestStatusSchema.optional(), provider: providerNameSchema.optional() }).strict(),
  alerts: z
    .object({
      level: alertLevelSchema.optional(),
      type: alertTypeSchema.optional(),
      status: alertStatusSchema.optional(),
      from: timeFilterSchema.optional(),
      to: timeFilterSchema.optional(),
    })
    .strict(),
} as const;

export type ExportName = keyof typeof exportFilterSchemas;
export type ExportFilter<N extends ExportName> = z.input<(typeof exportFilterSchemas)[N]>;
export const exportNames = Object.keys(exportFilterSchemas) as ExportName[];
