import { asc, eq, sql } from 'drizzle-orm';
import type { AlertChannelName, AlertRuleView } from '../../shared/alerts';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { creditAlerts } from './tables';

type RuleRow = typeof creditAlerts.$inferSelect;
export type RuleInput = {
  alertType: string;
  thresholdValue: string | null;
  notificationChannels: AlertChannelName[];
  isActive: boolean;
  repeatIntervalSeconds?: number;
};

export const toRuleView = (r: RuleRow): AlertRuleView => ({
  id: String(r.id),
  alertType: r.alertType,
  thresholdValue: r.thresholdValue,
  notificationChannels: r.notificationChannels as AlertChannelName[],
  isActive: r.isActive,
  lastTriggeredAt: r.lastTriggeredAt?.toISOString() ?? null,
  repeatIntervalSeconds: r.repeatIntervalSeconds,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

const unknownRule = (id: string) => new DomainError('NOT_FOUND', 'NOT_FOUND', `Alert rule ${id} does not exist.`);

export async function listRules(db: DbOrTx): Promise<AlertRuleView[]> {
  const rows = await db.select().from(creditAlerts).orderBy(asc(creditAlerts.alertType), asc(creditAlerts.id));
  return rows.map(toRuleView);
}

export async function createRule(db: DbOrTx, actor: Actor, input: RuleInput): Promise<AlertRuleView> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(creditAlerts).values(input).returning();
    const view = toRuleView(row!);
    await audit(tx, actor, { action: 'alert.rule.create', targetType: 'alert_rule', targetId: view.id, after: view });
    return view;
  });
}

export async function updateRule(db: DbOrTx, actor: Actor, input: RuleInput & { id: string }): Promise<AlertRuleView> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(creditAlerts)
      .where(eq(creditAlerts.id, Number(input.id)))
      .for('update');
    if (!before) throw unknownRule(input.id);
    const { id, ...values } = input;
    const [row] = await tx
      .update(creditAlerts)
      .set({ ...values, updatedAt: sql`now()` })
      .where(eq(creditAlerts.id, Number(id)))
      .returning();
    const view = toRuleView(row!);
    await audit(tx, actor, { action: 'alert.rule.update', targetType: 'alert_rule', targetId: id, before: toRuleView(before), after: view });
    return view;
  });
}

export async function deleteRule(db: DbOrTx, actor: Actor, input: { id: string }): Promise<{ ok: true }> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .delete(creditAlerts)
      .where(eq(creditAlerts.id, Number(input.id)))
      .returning();
    if (!row) throw unknownRule(input.id);
    await audit(tx, actor, { action: 'alert.rule.delete', targetType: 'alert_rule', targetId: input.id, before: toRuleView(row) });
    return { ok: true as const };
  });
}
