import { z } from 'zod';
import { pageInputSchema, timeFilterSchema } from './common';

const filterText = (name: string, max: number) => z.string().trim().min(1, `${name} must not be empty`).max(max, `${name} is at most ${max} characters`).optional();

/**
 * What the Audit page and the audit CSV export filter by: actor (email prefix or `cli`), action
 * (exact, or a prefix ending in `.` such as `pool.`), target type and id, and a time window.
 */
export const auditFilterSchema = z.object({
  actor: filterText('actor', 254),
  action: filterText('action', 100),
  targetType: filterText('targetType', 64),
  targetId: filterText('targetId', 200),
  from: timeFilterSchema.optional(),
  to: timeFilterSchema.optional(),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export const auditListInputSchema = pageInputSchema.extend(auditFilterSchema.shape);
export type AuditListInput = z.infer<typeof auditListInputSchema>;

export const auditEntrySchema = z.object({
  id: z.string(),
  actor: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  reason: z.string().nullable(),
  createdAt: z.string(),
});
export type AuditEntryView = z.infer<typeof auditEntrySchema>;

export const auditListSchema = z.object({ rows: z.array(auditEntrySchema), total: z.number().int() });
