import type { DbOrTx } from '../db/client';
import { auditLog } from './tables';

export type Actor = { adminId: string | null; label: string };

export const cliActor: Actor = { adminId: null, label: 'cli' };

export type AuditEntry = {
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
};

/** Written in the same transaction as the change it records. */
export async function audit(db: DbOrTx, actor: Actor, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    actorAdminId: actor.adminId,
    actorLabel: actor.label,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId ?? null,
    before: entry.before ?? null,
    after: entry.after ?? null,
    reason: entry.reason ?? null,
  });
}
